// The protocol conformance suites (test/conformance) run against a freshly started reference
// coordinator, as a real process on a loopback port.
import { afterAll, beforeAll } from 'vitest';
import type { Target } from '../conformance/client.ts';
import { defineConformance } from '../conformance/suites/index.ts';
import { type HiveProcess, startHive } from '../support/hive-process.ts';

let hive: HiveProcess;
let short: HiveProcess;
let target: Target;

beforeAll(async () => {
  // A second coordinator with 2 s leases for the cases that watch a lease run out.
  [hive, short] = await Promise.all([startHive(), startHive({ leaseSeconds: 2 })]);
  target = {
    url: hive.url,
    adminToken: hive.adminToken,
    shortLease: { url: short.url, adminToken: short.adminToken },
  };
});
afterAll(() => Promise.all([hive?.stop(), short?.stop()]));

defineConformance(() => target);
