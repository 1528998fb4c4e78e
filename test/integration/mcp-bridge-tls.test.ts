// The stdio bridge reaches the hive by the trust rules every program here follows (src/hive/tls,
// issue 19): a hive on HTTPS with a test CA made at start. Trusted by --ca-file, or by a pin of
// its key alone; refused without either (never falling back to anything), with a wrong pin, and a
// plain-http URL off loopback is a usage error naming --hive.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HiveProcess, startHive } from '../support/hive-process.ts';
import { makeServerPair, makeTestCa, writePair } from '../support/test-ca.ts';
import { bridgeClient, runBridge, tokenFile } from './mcp-world.ts';

let dir: string;
let hive: HiveProcess;
let caFile: string;
let pin: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'clawdie-mcp-tls-'));
  const ca = await makeTestCa();
  const pair = await makeServerPair(ca);
  const { cert, key } = writePair(dir, pair);
  caFile = path.join(dir, 'hive-ca.pem');
  await writeFile(caFile, ca.cert, { mode: 0o644 });
  pin = pair.pin;
  hive = await startHive({ tls: { certFile: cert, keyFile: key, ca: ca.cert } });
  file = await tokenFile(dir, 'acme', await hive.mintToken('acme'));
}, 30_000);
afterAll(async () => {
  await hive?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the stdio bridge over TLS', () => {
  it('trusts the hive by --ca-file, or by a pin of its key alone', async () => {
    expect(hive.url).toMatch(/^https:/);
    for (const extra of [
      ['--ca-file', caFile],
      ['--pin', pin],
    ]) {
      const b = await bridgeClient(hive.url, file, extra);
      expect((await b.client.listTools()).tools).toEqual([]);
      await b.client.close();
    }
  });

  it('refuses an untrusted certificate, a wrong pin, and plain http off loopback', async () => {
    const plain = await runBridge(hive.url, file);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/the hive's certificate is not trusted/);
    const other = await makeServerPair();
    const wrong = await runBridge(hive.url, file, ['--ca-file', caFile, '--pin', other.pin]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/matches no configured pin/);
    const offLoopback = await runBridge('http://10.255.255.1:9', file);
    expect(offLoopback.code).toBe(2);
    expect(offLoopback.stderr).toMatch(
      /--hive must be https:\/\/ unless the host is loopback or --private-network/,
    );
  });
});
