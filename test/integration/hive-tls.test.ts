// The hive over TLS (issue 19), against a test CA made at start: `hive serve --tls-cert/--tls-key`
// prints an https:// URL and refuses a key file others can read or a key that is not the
// certificate's; the agent's client and clawdie-host's admin client trust the CA, a CA file or a
// pin, and refuse a wrong CA or a wrong pin with a retryable 'tls' error (no plain-text fallback);
// real agent processes wait in backoff on a refusal and register once a fixed `.env` lands (same
// process); SIGHUP swaps in a rotated certificate while 20 agents long-poll, no task lost, no agent
// re-registered, and a bad pair on reload keeps the current one with one log line.
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HiveAdminError, hiveAdmin } from '../../host-helper/hive-admin/client.ts';
import { HiveClient } from '../../src/hive/client.ts';
import { HiveError } from '../../src/hive/errors.ts';
import type { HiveTrust } from '../../src/hive/tls/connector.ts';
import { spkiPin } from '../../src/hive/tls/policy.ts';
import { type HiveProcess, nodeBinary, REPO_ROOT, startHive } from '../support/hive-process.ts';
import { makeServerPair, makeTestCa, type ServerPair, type TestCa, writePair } from '../support/test-ca.ts';
import { rejectionOf } from '../support/thrown.ts';
import {
  type AgentProcess,
  envText,
  makeRoot,
  removeRoot,
  startAgent,
  waitUntil,
  writeEnv,
} from './agent-process.ts';

let dir: string;
let ca: TestCa;
let wrongCa: TestCa;
let pair: ServerPair;
let files: { cert: string; key: string };
let hive: HiveProcess;
const roots: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'clawdie-hive-tls-'));
  [ca, wrongCa] = await Promise.all([makeTestCa(), makeTestCa('some other CA')]);
  pair = await makeServerPair(ca);
  files = writePair(dir, pair);
  hive = await startHive({
    heartbeatSeconds: 2,
    pollSeconds: 5,
    tls: { certFile: files.cert, keyFile: files.key, ca: ca.cert },
  });
});

afterAll(async () => {
  await hive?.stop();
  for (const r of roots) removeRoot(r);
  rmSync(dir, { recursive: true, force: true });
});

const client = (trust: HiveTrust, token = hive.adminToken): HiveClient =>
  new HiveClient({ baseUrl: () => hive.url, token: () => token, timeoutMs: 5_000, trust: () => trust });

/** The pin of the certificate a fresh TLS connection to the hive is shown. */
function servedPin(): Promise<string> {
  const port = Number(new URL(hive.url).port);
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca: ca.cert, servername: 'localhost' }, () => {
      resolve(spkiPin(s.getPeerX509Certificate()!));
      s.end();
    });
    s.once('error', reject);
  });
}

/** Runs `hive serve` to its end (it must refuse to start) and returns the exit code and stderr. */
async function serveRefused(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const { spawn } = await import('node:child_process');
  const child = spawn(
    nodeBinary(),
    [
      path.join(REPO_ROOT, 'host-helper/cli.ts'),
      'hive',
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--db',
      ':memory:',
      ...args,
    ],
    {
      env: { PATH: process.env.PATH ?? '', CLAWDIE_HIVE_ADMIN_TOKEN: 'a'.repeat(40) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { code, stderr };
}

describe('hive serve over TLS', () => {
  it('prints its https:// URL first and answers through the test CA', async () => {
    expect(hive.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const line = await waitUntil(
      () =>
        hive
          .output()
          .split('\n')
          .find((l) => l.includes('"msg":"TLS enabled; SIGHUP reloads the certificate"')),
      'the TLS log line',
    );
    expect(line).toContain(pair.pin);
    const res = await hive.fetch('/v1/admin/agents', {
      headers: { authorization: `Bearer ${hive.adminToken}` },
    });
    expect(res.status).toBe(200);
  });

  it('refuses a key file that group/others can read, and a key that is not the certificate’s', async () => {
    const loose = writePair(dir, pair, 'loose-');
    chmodSync(loose.key, 0o640);
    const other = writePair(dir, { ...pair, key: (await makeServerPair(ca)).key }, 'other-');
    const [a, b, c] = await Promise.all([
      serveRefused(['--tls-cert', loose.cert, '--tls-key', loose.key]),
      serveRefused(['--tls-cert', other.cert, '--tls-key', other.key]),
      serveRefused(['--tls-cert', files.cert]),
    ]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--tls-key .*readable or writable by group\/others/);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--tls-key .*does not match the certificate/);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/--tls-cert: and --tls-key go together/);
    for (const r of [a, b]) expect(r.stderr).not.toContain('PRIVATE KEY');
  });
});

describe('clients verify the hive', () => {
  it('the agent client trusts the CA, or a pin alone; refuses a wrong CA and a wrong pin (retryable, tls)', async () => {
    const other = await makeServerPair(wrongCa);
    expect(
      (
        await client({ ca: ca.cert })
          .getTask('t-none')
          .catch((e) => e)
      ).status,
    ).toBe(404);
    expect(
      (
        await client({ pins: [pair.pin] })
          .getTask('t-none')
          .catch((e) => e)
      ).status,
    ).toBe(404);
    const cases: Array<[HiveTrust, RegExp]> = [
      [{ ca: wrongCa.cert }, /refused: the hive's certificate is not trusted \(/],
      [{}, /refused: the hive's certificate is not trusted \(/],
      [{ pins: [other.pin] }, /refused: the hive's public key matches no configured pin/],
      [{ ca: ca.cert, pins: [other.pin] }, /matches no configured pin/],
      [{ ca: wrongCa.cert, pins: [pair.pin] }, /not trusted/],
    ];
    for (const [trust, want] of cases) {
      const err = await rejectionOf(HiveError, client(trust).getTask('t-none'));
      expect(err.reason).toBe('tls');
      expect(err.kind).toBe('retryable');
      expect(err.message).toMatch(want);
    }
  });

  it('clawdie-host’s admin client follows the same rules', async () => {
    const ok = hiveAdmin(hive.url, hive.adminToken, 5_000, { pins: [pair.pin] });
    const bad = hiveAdmin(hive.url, hive.adminToken, 5_000, { ca: wrongCa.cert });
    try {
      expect(Array.isArray((await ok.listAgents()).agents)).toBe(true);
      expect((await rejectionOf(HiveAdminError, bad.listAgents())).message).toMatch(
        /^hive refused: the hive's certificate is not trusted/,
      );
    } finally {
      await Promise.all([ok.close(), bad.close()]);
    }
  });
});

describe('real agents', () => {
  it('wait in backoff on a wrong pin or CA file, and register once a right pin lands (same process)', async () => {
    const token = await hive.mintToken('tls-acme');
    const other = await makeServerPair(wrongCa);
    // A: a wrong pin in the .env, later replaced by the right one.
    const a = makeRoot();
    // B: the right CA file in the image layer; C: a CA file of another CA.
    const b = makeRoot();
    const c = makeRoot();
    roots.push(a, b, c);
    for (const [root, pem] of [
      [b, ca.cert],
      [c, wrongCa.cert],
    ] as const) {
      const soul = path.join(root, 'usr/local/share/clawdie/soul');
      mkdirSync(soul, { recursive: true });
      writeFileSync(path.join(soul, 'hive-ca.pem'), pem, { mode: 0o644 });
    }
    const env = envText({ url: hive.url, token, tenant: 'tls-acme' });
    writeEnv(a, `${env}CLAWDIE_HIVE_TLS_PIN=${other.pin}\n`);
    writeEnv(b, env);
    writeEnv(c, env);
    const [agentA, agentB, agentC] = [a, b, c].map((r) => startAgent(r)) as [
      AgentProcess,
      AgentProcess,
      AgentProcess,
    ];
    try {
      await agentB.waitState('running', 20_000);
      await agentA.waitLog(
        (r) => typeof r.err === 'string' && r.err.includes('matches no configured pin'),
        'agent A refuses the hive by its pin',
        20_000,
      );
      await agentC.waitLog(
        (r) => typeof r.err === 'string' && r.err.includes("the hive's certificate is not trusted"),
        'agent C refuses the hive by its CA file',
        20_000,
      );
      expect(agentC.output()).toContain('"msg":"hive CA file in use"');
      await agentA.waitLog((r) => r.msg === 'backing off before registering again', 'agent A backs off');
      writeEnv(a, `${env}CLAWDIE_HIVE_TLS_PIN=${other.pin},${pair.pin}\n`);
      await agentA.waitState('running', 20_000);
      expect(agentA.child.exitCode).toBeNull();
      const admin = client({ ca: ca.cert });
      const { taskId } = await admin.submitTask({
        capability: 'echo',
        input: 'over tls',
        tenant: 'tls-acme',
      });
      const done = await waitUntil(async () => {
        const v = await admin.getTask(taskId);
        return v.state === 'succeeded' ? v : undefined;
      }, 'the echo task');
      expect(done.result?.output).toBe('over tls');
      expect(agentC.output()).not.toContain('registered with the hive');
      expect(`${agentA.output()}${agentB.output()}${agentC.output()}`).not.toContain(token);
      await admin.close();
    } finally {
      await Promise.all([agentA, agentB, agentC].map((x) => x.kill()));
    }
  }, 60_000);
});

describe('SIGHUP', () => {
  it('swaps in a rotated certificate while 20 agents long-poll: no task lost, no agent restarted', async () => {
    const token = await hive.mintToken('tls-lane', { shared: true });
    const trust = { ca: ca.cert };
    const agents = Array.from({ length: 20 }, (_, i) => ({
      id: `tls-light-${i}`,
      hive: client(trust, token),
    }));
    const errors: string[] = [];
    const served: string[] = [];
    let registrations = 0;
    let stop = false;
    for (const a of agents) {
      await a.hive.register({
        agentId: a.id,
        tenant: 'tls-lane',
        capabilities: ['rot'],
        identityHash: 'c'.repeat(64),
        version: '1',
        os: 'test',
      });
      registrations++;
    }
    const loops = agents.map(async (a) => {
      let beat = Date.now();
      while (!stop) {
        try {
          if (Date.now() - beat > 1000) {
            await a.hive.heartbeat(a.id, { busy: false });
            beat = Date.now();
          }
          const task = await a.hive.poll(a.id, 3);
          if (!task) continue;
          await a.hive.postResult(task.taskId, a.id, { status: 'ok', output: a.id });
          served.push(task.taskId);
        } catch (err) {
          errors.push(`${a.id}: ${(err as Error).message}`);
          return;
        }
      }
    });
    const submitter = client(trust);
    const runTasks = async (n: number): Promise<string[]> => {
      const ids = [];
      for (let i = 0; i < n; i++)
        ids.push((await submitter.submitTask({ capability: 'rot', input: i, tenant: 'tls-lane' })).taskId);
      return ids;
    };
    const allServed = (ids: string[]) =>
      waitUntil(
        () => (ids.every((id) => served.includes(id)) ? true : undefined),
        'every task served',
        20_000,
      );
    try {
      await allServed(await runTasks(20));
      expect(await servedPin()).toBe(pair.pin);

      // Rotate: a new key under the same CA, written over the files; the polls stay parked meanwhile.
      const rotated = await makeServerPair(ca);
      writePair(dir, rotated);
      const reloads = (): number => hive.output().split('"msg":"TLS certificate reloaded"').length - 1;
      hive.child.kill('SIGHUP');
      await waitUntil(() => (reloads() === 1 ? true : undefined), 'the reload log line');
      expect(await servedPin()).toBe(rotated.pin);
      await allServed(await runTasks(40));

      // A bad pair (this key is not the certificate's): the rotated one stays, one log line says so.
      writePair(dir, { ...rotated, key: (await makeServerPair(ca)).key });
      hive.child.kill('SIGHUP');
      const refused = (): number =>
        hive.output().split('"msg":"TLS reload refused; the previous certificate stays in use"').length - 1;
      await waitUntil(() => (refused() === 1 ? true : undefined), 'the refusal log line');
      expect(await servedPin()).toBe(rotated.pin);
      await allServed(await runTasks(20));
    } finally {
      stop = true;
      await Promise.all(loops);
      await Promise.all([submitter.close(), ...agents.map((a) => a.hive.close())]);
    }
    expect(errors).toEqual([]);
    expect(new Set(served).size).toBe(80);
    expect(registrations).toBe(20);
    const registeredLines = hive
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"agent registered"') && l.includes('tls-light-'));
    expect(registeredLines).toHaveLength(20);
    expect(new X509Certificate(pair.cert).checkIssued(new X509Certificate(ca.cert))).toBe(true);
  }, 90_000);
});
