// The protocol conformance suites (test/conformance) against the reference coordinator serving
// HTTPS (issue 19): a test CA made at start signs its certificate; the suites trust only that CA.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { Target } from '../conformance/client.ts';
import { defineConformance } from '../conformance/suites/index.ts';
import { type HiveProcess, startHive } from '../support/hive-process.ts';
import { makeServerPair, makeTestCa, writePair } from '../support/test-ca.ts';

let dir: string;
let hive: HiveProcess;
let short: HiveProcess;
let target: Target;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'clawdie-tls-conf-'));
  const ca = await makeTestCa();
  const files = writePair(dir, await makeServerPair(ca));
  const tls = { certFile: files.cert, keyFile: files.key, ca: ca.cert };
  // A second coordinator with 2 s leases for the cases that watch a lease run out.
  [hive, short] = await Promise.all([startHive({ tls }), startHive({ tls, leaseSeconds: 2 })]);
  if (!hive.url.startsWith('https://')) throw new Error(`expected an https hive, got ${hive.url}`);
  target = {
    url: hive.url,
    adminToken: hive.adminToken,
    ca: ca.cert,
    shortLease: { url: short.url, adminToken: short.adminToken, ca: ca.cert },
  };
});
afterAll(async () => {
  await Promise.all([hive?.stop(), short?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

defineConformance(() => target);
