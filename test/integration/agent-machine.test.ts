// The agent machine under XState's actor system with a SimulatedClock (no real waiting for
// heartbeats, backoff or drain deadlines) against a fake hive on loopback and real env files.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Actor, createActor, SimulatedClock, waitFor } from 'xstate';
import { resolvePaths } from '../../src/config/paths.ts';
import { HiveClient } from '../../src/hive/client.ts';
import { createLogger } from '../../src/log.ts';
import { type AgentMachine, agentMachine, topStateOf } from '../../src/machine/agent-machine.ts';
import { type AgentDeps, DEFAULT_TUNING } from '../../src/machine/deps.ts';
import { nextDelay } from '../../src/retry/backoff.ts';
import { SecretsBox } from '../../src/secrets/box.ts';
import { ECHO_DESCRIPTOR } from '../../src/skills/descriptors.ts';
import { echoRunner, type TaskRunner } from '../../src/skills/task-runner.ts';
import { type FakeHive, startFakeHive } from '../fixtures/fake-hive/server.ts';

const KEY = `sk-unit-${randomBytes(6).toString('hex')}`;

let root: string;
let hive: FakeHive;
let clock: SimulatedClock;
let logs: string[];
let actor: Actor<AgentMachine> | undefined;
let client: HiveClient;
let sleeps = 0;
const sleepWaiters = new Set<() => void>();

/** Resolves once the code under test has called sleep() `n` times in all (retry is scheduled). */
function sleeping(n: number): Promise<void> {
  if (sleeps >= n) return Promise.resolve();
  return new Promise((resolve) => {
    const check = (): void => {
      if (sleeps < n) return;
      sleepWaiters.delete(check);
      resolve();
    };
    sleepWaiters.add(check);
  });
}

function writeEnv(token: string, url = hive.url): void {
  const dir = path.join(root, 'home/clawdie');
  mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.env.${randomBytes(3).toString('hex')}`);
  writeFileSync(
    tmp,
    `CLAWDIE_TENANT=acme\nCLAWDIE_HIVE_URL=${url}\nCLAWDIE_HIVE_TOKEN=${token}\nOPENROUTER_API_KEY=${KEY}\n`,
    {
      mode: 0o600,
    },
  );
  renameSync(tmp, path.join(dir, '.env'));
}

function start(runner: TaskRunner = echoRunner): Actor<AgentMachine> {
  const secrets = new SecretsBox();
  client = new HiveClient({
    baseUrl: () => secrets.get()?.CLAWDIE_HIVE_URL,
    token: () => secrets.get()?.CLAWDIE_HIVE_TOKEN,
  });
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const deps: AgentDeps = {
    paths: resolvePaths({ root }),
    log: createLogger({ name: 'agent-test', level: 'debug', destination: sink }),
    hive: client,
    secrets,
    createRunner: () => runner,
    principal: { uid: process.getuid!(), gids: [] },
    version: '0.0.0-test',
    os: process.platform,
    now: () => clock.now(),
    random: () => 0.5,
    sleep: (ms, signal) =>
      new Promise((resolve) => {
        const id = clock.setTimeout(resolve, ms);
        signal.addEventListener('abort', () => {
          clock.clearTimeout(id);
          resolve();
        });
        sleeps += 1;
        for (const w of sleepWaiters) w();
      }),
    tuning: { ...DEFAULT_TUNING, drainDeadlineMs: 5_000 },
  };
  actor = createActor(agentMachine, { input: deps, clock }).start();
  return actor;
}

const inState = (a: Actor<AgentMachine>, name: string) =>
  waitFor(a, (s) => topStateOf(s) === name, { timeout: 10_000 });

beforeEach(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'clawdie-machine-'));
  hive = await startFakeHive({ tokens: ['tok-1'], heartbeatSeconds: 10, pollSeconds: 30 });
  clock = new SimulatedClock();
  logs = [];
  sleeps = 0;
});

afterEach(async () => {
  actor?.stop();
  actor = undefined;
  await client.close();
  await hive.close();
  rmSync(root, { recursive: true, force: true });
  expect(logs.join('')).not.toContain(KEY);
  expect(logs.join('')).not.toContain('tok-1');
});

describe('agent machine', () => {
  it('registers with identity and capabilities, heartbeats on the simulated interval, drains on request', async () => {
    writeEnv('tok-1');
    const a = start();
    await inState(a, 'running');
    const reg = hive.seen.find((s) => s.label === 'register')!;
    expect(reg.body).toMatchObject({
      tenant: 'acme',
      capabilities: ['echo'],
      // A runner that describes nothing still describes echo.
      descriptors: [ECHO_DESCRIPTOR],
      version: '0.0.0-test',
      os: process.platform,
    });
    expect((reg.body as { identityHash: string }).identityHash).toMatch(/^[a-f0-9]{64}$/);
    expect(hive.count('heartbeat')).toBe(0);
    clock.increment(10_000);
    await hive.waitFor('heartbeat', 1);
    await waitFor(a, (s) => s.context.lastHeartbeat !== undefined);
    hive.setDrain(true);
    clock.increment(10_000);
    await hive.waitFor('deregister', 1);
    await waitFor(a, (s) => s.status === 'done');
    expect(a.getSnapshot().value).toBe('stopped');
  });

  it('waits for the env file, then registers as soon as it appears', async () => {
    const a = start();
    await inState(a, 'awaitingSecrets');
    // The first check of the env file has found none (boot may reach awaitingSecrets before it runs).
    await vi.waitFor(() => expect(logs.join('')).toContain('does not exist yet'));
    expect(hive.seen).toHaveLength(0);
    writeEnv('tok-1');
    await inState(a, 'running');
  });

  it('backs off on 5xx and connection resets, then registers after the simulated delay', async () => {
    hive.failNext('register', 503);
    hive.failNext('register', 0);
    writeEnv('tok-1');
    const a = start();
    await hive.waitFor('register', 1);
    await inState(a, 'backoff');
    clock.increment(DEFAULT_TUNING.backoff.capMs);
    await hive.waitFor('register', 2);
    await inState(a, 'backoff');
    clock.increment(DEFAULT_TUNING.backoff.capMs);
    await inState(a, 'running');
    expect(hive.count('register')).toBe(3);
    // The backoff starts over once the hive has answered a heartbeat (a stay, not just a registration).
    expect(a.getSnapshot().context.attempt).toBe(2);
    clock.increment(10_000);
    await waitFor(a, (s) => s.context.lastHeartbeat !== undefined);
    expect(a.getSnapshot().context.attempt).toBe(0);
  });

  it('goes back to awaiting secrets on 401 and resumes with a rotated token without a restart', async () => {
    writeEnv('tok-1');
    const a = start();
    await inState(a, 'running');
    hive.tokens.delete('tok-1');
    hive.tokens.add('tok-2');
    clock.increment(10_000);
    await inState(a, 'awaitingSecrets');
    writeEnv('tok-2');
    await inState(a, 'running');
    const last = hive.seen.filter((s) => s.label === 'register').at(-1)!;
    expect(last.token).toBe('tok-2');
  });

  it('a registration refused 403 waits for a changed .env (no exit, no retry, one warning), then registers', async () => {
    // A 403 (the token is another tenant's than CLAWDIE_TENANT) sent the agent to `failed`, exit 1.
    hive.failNext('register', 403, 1, {
      error: { code: 'forbidden', message: 'tenant does not match the token', field: 'tenant' },
    });
    writeEnv('tok-1');
    const a = start();
    // Back in awaitingSecrets after the refusal (boot itself may pass through it before the env check).
    await hive.waitFor('register', 1);
    await inState(a, 'awaitingSecrets');
    expect(a.getSnapshot().context).toMatchObject({
      env: undefined,
      lastError: 'hive register answered 403 (forbidden, field tenant)',
    });
    // No timer brings it back to registering (a timer would fire inside increment()).
    clock.increment(10 * 60_000);
    expect(topStateOf(a.getSnapshot())).toBe('awaitingSecrets');
    expect(hive.count('register')).toBe(1);
    hive.tokens.add('tok-2');
    writeEnv('tok-2');
    await inState(a, 'running');
    expect(hive.seen.filter((s) => s.label === 'register').map((s) => s.token)).toEqual(['tok-1', 'tok-2']);
    const warned = logs.filter((l) => l.includes('waiting for a changed .env'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain('"level":40');
  });

  it.each([
    [
      '404 from the hive (no such route: the URL path is wrong)',
      'awaitingSecrets',
      404,
      { code: 'not_found' },
    ],
    ['400 naming the tenant', 'awaitingSecrets', 400, { code: 'bad_request', field: 'tenant' }],
    ['404 from a proxy, not the hive', 'backoff', 404, '<html>Not Found</html>'],
    ['409', 'backoff', 409, { code: 'conflict' }],
    [
      '400 naming the capabilities (the skills)',
      'failed',
      400,
      { code: 'bad_request', field: 'capabilities.0' },
    ],
  ] as const)('a registration answered %s ends in %s', async (_name, state, status, error) => {
    const body = typeof error === 'string' ? error : { error: { message: 'refused', ...error } };
    hive.failNext('register', status, 1, body);
    writeEnv('tok-1');
    const a = start();
    await hive.waitFor('register', 1);
    await inState(a, state);
    expect(hive.count('register')).toBe(1);
    if (state === 'failed') {
      expect(a.getSnapshot().context.failure).toBe(
        'hive register answered 400 (bad_request, field capabilities.0)',
      );
    }
  });

  it('re-registers after "unknown agent" through the growing backoff, which a stay in running resets', async () => {
    // A hive that accepts registrations and forgets them at once (lagging replicas) answers 404 to
    // every poll: the agent went straight back to registering, a busy loop.
    const unknown = { error: { code: 'not_found', message: 'unknown agent', field: 'agentId' } };
    hive.failNext('poll', 404, 3, unknown);
    writeEnv('tok-1');
    const a = start();
    const waits: number[] = [];
    for (let i = 1; i <= 3; i++) {
      await hive.waitFor('poll', i);
      await inState(a, 'backoff');
      waits.push(a.getSnapshot().context.backoffMs);
      expect(hive.count('register')).toBe(i);
      clock.increment(a.getSnapshot().context.backoffMs);
      await inState(a, 'running');
    }
    const policy = DEFAULT_TUNING.backoff;
    expect(waits).toEqual([0, 1, 2].map((n) => nextDelay(n, policy, () => 0.5)));
    // Running with the hive answering: a heartbeat resets the backoff.
    clock.increment(10_000);
    await waitFor(a, (s) => s.context.lastHeartbeat !== undefined);
    expect(a.getSnapshot().context.attempt).toBe(0);
    hive.failNext('heartbeat', 404, 1, unknown);
    clock.increment(10_000);
    await inState(a, 'backoff');
    expect(a.getSnapshot().context.backoffMs).toBe(nextDelay(0, policy, () => 0.5));
  });

  it('applies a rotated token from the next request while running', async () => {
    writeEnv('tok-1');
    const a = start();
    await inState(a, 'running');
    hive.tokens.add('tok-2');
    writeEnv('tok-2');
    await waitFor(a, (s) => s.context.env?.CLAWDIE_HIVE_TOKEN === 'tok-2');
    clock.increment(10_000);
    await hive.waitFor('heartbeat', 1);
    expect(hive.seen.filter((s) => s.label === 'heartbeat').at(-1)!.token).toBe('tok-2');
    expect(topStateOf(a.getSnapshot())).toBe('running');
    expect(hive.count('register')).toBe(1);
  });

  it('executes a leased task and retries the result until acknowledged, posting it once', async () => {
    writeEnv('tok-1');
    const a = start();
    await inState(a, 'running');
    await hive.waitFor('poll', 1);
    hive.failNext('result', 503, 2);
    hive.offer({ taskId: 't-1', capability: 'echo', input: { n: 1 }, leaseSeconds: 60 });
    // The first sleep is the task's lease watch (while the runner runs); then the two retry waits.
    await sleeping(2);
    clock.increment(DEFAULT_TUNING.backoff.capMs);
    await sleeping(3);
    clock.increment(DEFAULT_TUNING.backoff.capMs);
    await hive.waitFor('result', 1, 200);
    await waitFor(a, (s) => s.context.inFlight === undefined);
    expect(hive.count('result', 200)).toBe(1);
    const ok = hive.seen.find((s) => s.label === 'result' && s.status === 200)!;
    expect(ok.body).toEqual({ status: 'ok', output: { n: 1 }, agentId: a.getSnapshot().context.agentId });
    await hive.waitFor('poll', 2);
  });

  it('gives a result up once its lease would expire', async () => {
    writeEnv('tok-1');
    const a = start();
    await inState(a, 'running');
    hive.failNext('result', 503, 100);
    hive.offer({ taskId: 't-2', capability: 'echo', input: 1, leaseSeconds: 20 });
    await waitFor(a, (s) => s.context.inFlight !== undefined);
    // Each retry waits at most the cap; the lease (20 s) runs out after a few of them.
    for (let i = 1; a.getSnapshot().context.inFlight !== undefined && i < 50; i++) {
      await Promise.race([sleeping(i), waitFor(a, (s) => s.context.inFlight === undefined)]);
      clock.increment(DEFAULT_TUNING.backoff.capMs);
    }
    await waitFor(a, (s) => s.context.inFlight === undefined);
    expect(hive.count('result')).toBeGreaterThan(1);
    expect(logs.join('')).toContain('before the lease expired');
    expect(hive.count('result', 200)).toBe(0);
  });

  it('on shutdown during a task: waits up to the deadline, hands the task back, deregisters', async () => {
    let started!: () => void;
    const running = new Promise<void>((r) => {
      started = r;
    });
    const slow: TaskRunner = {
      capabilities: () => ['echo', 'slow'],
      run: (_task, ctx) =>
        new Promise((resolve) => {
          started();
          ctx.signal.addEventListener('abort', () => resolve({ status: 'error', output: 'aborted' }));
        }),
    };
    writeEnv('tok-1');
    const a = start(slow);
    await inState(a, 'running');
    expect(hive.seen[0]!.body).toMatchObject({ capabilities: ['echo', 'slow'] });
    hive.offer({ taskId: 't-3', capability: 'slow', input: null, leaseSeconds: 60 });
    await running;
    a.send({ type: 'shutdown' });
    await inState(a, 'draining');
    expect(hive.count('release')).toBe(0);
    clock.increment(5_000);
    await hive.waitFor('deregister', 1);
    await waitFor(a, (s) => s.status === 'done');
    expect(hive.seen.find((s) => s.label === 'release')?.body).toEqual({
      agentId: a.getSnapshot().context.agentId,
    });
    expect(hive.count('result')).toBe(0);
  });

  it('drains and returns to awaiting secrets when the env file is removed', async () => {
    writeEnv('tok-1');
    const a = start();
    await inState(a, 'running');
    rmSync(path.join(root, 'home/clawdie/.env'));
    await hive.waitFor('deregister', 1);
    await inState(a, 'awaitingSecrets');
  });

  it('fails with one line for an unusable soul and leaves no timers behind', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const soul = path.join(root, 'var/db/clawdie/soul');
    mkdirSync(soul, { recursive: true });
    writeFileSync(path.join(soul, 'SOUL.md'), 'x'.repeat(70_000));
    const a = start();
    await waitFor(a, (s) => s.status === 'done');
    expect(a.getSnapshot().value).toBe('failed');
    expect(a.getSnapshot().context.failure).toBe(
      'soul file agent/SOUL.md is 70000 bytes; the limit is 65536',
    );
    const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(after).toBeLessThanOrEqual(before);
  });
});
