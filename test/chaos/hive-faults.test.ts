// Chaos: N real agent processes and M tasks (idempotency keys) against the real hive while it is
// killed (-9) and restarted, paused (SIGSTOP/SIGCONT), and while a proxy between agents and hive
// slows and drops connections mid-long-poll and answers 5xx, garbage JSON and 401. Proves: every
// key completes exactly once (one task id per key, succeeded, its own key in the result, executed),
// no agent burns CPU while the hive is unreachable, all agents are back within a bound after it
// returns. Figures go to the chaos figures dir; a leak scan covers output, files and argv.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_KEY,
  cpuSeconds,
  envText,
  makeRoot,
  readStatus,
  waitUntil,
  writeEnv,
} from '../integration/agent-process.ts';
import { type HiveProcess, nodeBinary, REPO_ROOT, startHive } from '../support/hive-process.ts';
import { LeakScanner, sampleArgv } from '../support/leak-scan.ts';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';
import { FULL, reportFigures, SCALE } from './scale.ts';

const ENTRY = path.join(REPO_ROOT, 'test/chaos/counting-agent.ts');
const TENANTS = ['chaos-a', 'chaos-b'];
const OUTAGE_MS = FULL ? 5_000 : 2_500;
const RECOVERY_BOUND_MS = 30_000;

interface Agent {
  tenant: string;
  root: string;
  child: ChildProcess;
  out: string[];
  argv: string[];
}

let hive: HiveProcess;
let proxy: FaultProxy;
const agents: Agent[] = [];
const tokens = new Map<string, string>();
const scan = new LeakScanner();
let stopArgv: () => number = () => 0;
const figures: Record<string, unknown> = {};
const cpuWindows: Record<string, number> = {};
const recoveries: Record<string, number> = {};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function startAgentProcess(tenant: string): Agent {
  const root = makeRoot();
  writeEnv(root, envText({ url: proxy.url, token: tokens.get(tenant)!, tenant }));
  const argv = [ENTRY, 'run', '--root', root];
  const child = spawn(nodeBinary(), argv, {
    env: {
      PATH: process.env.PATH ?? '',
      CLAWDIE_LOG_LEVEL: 'info',
      CLAWDIE_BACKOFF_MAX_SECONDS: '1',
      CHAOS_EXEC_LOG: path.join(root, 'executions.log'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => out.push(d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => out.push(d));
  return { tenant, root, child, out, argv };
}

async function api(method: string, p: string, token: string, body?: unknown, timeoutMs = 5_000) {
  const res = await fetch(`${hive.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

// ---- the submitter: every key retried until the hive answers; one task id per key expected ----
const taskIds = new Map<string, Set<string>>();
const keyTenant = new Map<string, string>();
let submitRetries = 0;

async function submitOne(key: string): Promise<void> {
  const tenant = keyTenant.get(key)!;
  for (;;) {
    try {
      const r = await api('POST', '/v1/tasks', tokens.get(tenant)!, {
        capability: 'chaos',
        input: { key },
        idempotencyKey: key,
        ttlSeconds: 3_600,
      });
      if (r.status === 200 || r.status === 201) {
        const id = (r.json as { taskId: string }).taskId;
        const ids = taskIds.get(key) ?? new Set<string>();
        ids.add(id);
        taskIds.set(key, ids);
        return;
      }
    } catch {}
    submitRetries += 1;
    await sleep(200);
  }
}

function submitChunk(n: number): Promise<void> {
  const keys = Array.from({ length: n }, (_, i) => {
    const key = `k-${randomUUID()}`;
    keyTenant.set(key, TENANTS[i % TENANTS.length]!);
    return key;
  });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) await submitOne(keys[next++]!);
  };
  return Promise.all(Array.from({ length: 8 }, worker)).then(() => undefined);
}

// ---- observations ----
function agentCpu(): number[] {
  return agents.map((a) => {
    if (a.child.exitCode !== null || a.child.signalCode !== null) {
      const tail = a.out.join('').split('\n').slice(-6).join('\n');
      throw new Error(`agent ${a.root} exited (${a.child.exitCode ?? a.child.signalCode}):\n${tail}`);
    }
    return cpuSeconds(a.child.pid!);
  });
}

/** Max CPU seconds any agent used over `ms` (the hive unreachable meanwhile). */
async function cpuOver(ms: number): Promise<number> {
  const before = agentCpu();
  await sleep(ms);
  const after = agentCpu();
  return Math.max(...after.map((v, i) => v - before[i]!));
}

async function liveSince(t0: number): Promise<number> {
  try {
    const r = await api('GET', '/v1/admin/agents', hive.adminToken);
    const list = (r.json as { agents: Array<{ agentId: string; state: string; lastHeartbeat: string }> })
      .agents;
    const ids = new Set(agents.map((a) => readStatus(a.root)?.agentId));
    return list.filter((x) => ids.has(x.agentId) && x.state === 'live' && Date.parse(x.lastHeartbeat) >= t0)
      .length;
  } catch {
    return 0;
  }
}

/** Milliseconds from t0 until every agent heartbeated again after t0. */
async function recovery(t0: number): Promise<number> {
  await waitUntil(
    async () => ((await liveSince(t0)) === agents.length ? true : undefined),
    'all agents live again',
    RECOVERY_BOUND_MS,
  );
  return Date.now() - t0;
}

const succeeded = new Set<string>();
let lastStates: Record<string, number> = {};

/** Keys not yet succeeded (a succeeded task never changes again, so it is not asked twice). */
async function allDone(): Promise<{ pending: string[] }> {
  const pending: string[] = [];
  const states: Record<string, number> = {};
  for (const [key, ids] of taskIds) {
    if (succeeded.has(key)) continue;
    const id = [...ids][0]!;
    let state = 'unreachable';
    try {
      const r = await api('GET', `/v1/tasks/${id}`, tokens.get(keyTenant.get(key)!)!);
      state = (r.json as { state?: string }).state ?? `http ${r.status}`;
    } catch {}
    if (state === 'succeeded') succeeded.add(key);
    else {
      pending.push(key);
      states[state] = (states[state] ?? 0) + 1;
    }
  }
  lastStates = states;
  return { pending };
}

const pendingIds = (): string[] =>
  [...taskIds].filter(([k]) => !succeeded.has(k)).map(([, ids]) => [...ids][0]!);

/** The hive's warnings and errors so far (pino levels 40+), for the failure message. */
const hiveErrors = (): string =>
  hive
    .output()
    .split('\n')
    .filter((l) => /"level":(4|5|6)0/.test(l))
    .slice(-5)
    .join(' | ');

/** What the hive's database says about some tasks (read-only), to tell a timer from a cache. */
function storedRows(ids: string[]): string {
  try {
    const db = new DatabaseSync(hive.dbPath, { readOnly: true });
    const rows = ids.map((id) => db.prepare('SELECT * FROM tasks WHERE task_id = ?').get(id));
    db.close();
    return JSON.stringify({ now: Date.now(), rows });
  } catch (err) {
    return `unreadable (${String(err)})`;
  }
}

/** Waits for every submitted key to succeed; on timeout names the states still pending. */
async function quiesce(what: string, ms: number): Promise<void> {
  try {
    await waitUntil(async () => ((await allDone()).pending.length === 0 ? true : undefined), what, ms);
  } catch {
    const live = await liveSince(0);
    throw new Error(
      `${what}: still pending ${JSON.stringify(lastStates)}; live agents ${live}/${agents.length}; ` +
        `stored rows: ${storedRows(pendingIds().slice(0, 3))}; hive errors: ${hiveErrors()}`,
    );
  }
}

beforeAll(async () => {
  hive = await startHive({ heartbeatSeconds: 2, pollSeconds: 5, leaseSeconds: 15 });
  const u = new URL(hive.url);
  proxy = await startFaultProxy({ host: u.hostname, port: Number(u.port) });
  for (const t of TENANTS) tokens.set(t, await hive.mintToken(t));
  scan.secret('hive-admin', hive.adminToken);
  scan.secret('api-key', API_KEY);
  for (const [t, tok] of tokens) scan.secret('tenant-token', tok, t);
  stopArgv = sampleArgv(scan, 250);
  for (let i = 0; i < SCALE.agents; i += 1) agents.push(startAgentProcess(TENANTS[i % TENANTS.length]!));
  await waitUntil(
    () => (agents.every((a) => readStatus(a.root)?.state === 'running') ? true : undefined),
    'all agents running',
    120_000,
  );
}, 180_000);

afterAll(async () => {
  const argvSeen = stopArgv();
  for (const a of agents) {
    if (a.child.exitCode === null && a.child.signalCode === null) {
      const exited = new Promise((r) => a.child.once('exit', r));
      a.child.kill('SIGKILL');
      await exited;
    }
  }
  await proxy?.close();
  // The final scan, over everything the suite produced, before anything is removed.
  for (const a of agents) {
    scan.argv(`agent ${a.root}`, a.argv);
    scan.text(`output of agent ${a.root}`, a.out.join(''));
    scan.tree(a.root, (f) =>
      f.endsWith('/.env') ? [{ kind: 'tenant-token', owner: a.tenant }, { kind: 'api-key' }] : [],
    );
  }
  if (hive) {
    scan.text('hive output', hive.output());
    // The hive keeps token hashes only: its SQLite files (db, -wal, -shm) hold no token at all.
    scan.tree(path.dirname(hive.dbPath));
  }
  figures.leakScan = { ...scan.stats, argvSampled: argvSeen, hits: scan.hits().length };
  reportFigures('hive-faults', figures);
  await hive?.stop();
  for (const a of agents) rmSync(a.root, { recursive: true, force: true });
  scan.assertClean();
}, 120_000);

describe(`hive faults: ${SCALE.agents} agents, ${SCALE.tasks} tasks`, () => {
  it(
    'every task completes exactly once; no busy loop while the hive is away; bounded recovery',
    async () => {
      const phases = ['kill', 'pause', 'slow-drop', '5xx', 'garbage', '401'] as const;
      const chunks = SCALE.faultRounds * phases.length + 1;
      const chunk = Math.ceil(SCALE.tasks / chunks);
      let submitted = 0;
      const submitting: Promise<void>[] = [];
      const nextChunk = (): void => {
        const n = Math.min(chunk, SCALE.tasks - submitted);
        submitted += n;
        if (n > 0) submitting.push(submitChunk(n));
      };
      const started = Date.now();

      for (let round = 0; round < SCALE.faultRounds; round += 1) {
        for (const phase of phases) {
          const tag = `${phase}#${round + 1}`;
          if (phase === '401') {
            // A 401 parks agents until the .env changes (DESIGN §3): quiesce first so no result is
            // cut off, then the host's answer to it — a rotated token written to every .env.
            await Promise.all(submitting);
            await quiesce('quiesce before 401', 180_000);
            proxy.setMode({ kind: 'status', status: 401 });
            proxy.drop();
            await waitUntil(
              () => (agents.every((a) => readStatus(a.root)?.state === 'awaitingSecrets') ? true : undefined),
              'agents parked by 401',
              30_000,
            );
            cpuWindows[tag] = await cpuOver(OUTAGE_MS);
            proxy.setMode({ kind: 'pass' });
            const t0 = Date.now();
            for (const t of TENANTS) {
              const tok = await hive.mintToken(t);
              tokens.set(t, tok);
              scan.secret('tenant-token', tok, t);
            }
            for (const a of agents)
              writeEnv(a.root, envText({ url: proxy.url, token: tokens.get(a.tenant)!, tenant: a.tenant }));
            recoveries[tag] = await recovery(t0);
            nextChunk();
            continue;
          }
          nextChunk();
          await sleep(300); // tasks in flight when the fault strikes
          if (phase === 'kill') {
            await hive.kill('SIGKILL');
            await sleep(500);
            cpuWindows[tag] = await cpuOver(OUTAGE_MS);
            const t0 = Date.now();
            await hive.restart();
            recoveries[tag] = await recovery(t0);
          } else if (phase === 'pause') {
            hive.child.kill('SIGSTOP');
            await sleep(500);
            cpuWindows[tag] = await cpuOver(OUTAGE_MS);
            const t0 = Date.now();
            hive.child.kill('SIGCONT');
            recoveries[tag] = await recovery(t0);
          } else if (phase === 'slow-drop') {
            proxy.setMode({ kind: 'delay', ms: 700 });
            for (let i = 0; i < 3; i += 1) {
              await sleep(800);
              proxy.drop();
            }
            proxy.setMode({ kind: 'pass' });
            const t0 = Date.now();
            recoveries[tag] = await recovery(t0);
          } else {
            proxy.setMode(phase === '5xx' ? { kind: 'status', status: 503 } : { kind: 'garbage' });
            proxy.drop();
            await sleep(300);
            cpuWindows[tag] = await cpuOver(OUTAGE_MS);
            proxy.setMode({ kind: 'pass' });
            proxy.drop();
            const t0 = Date.now();
            recoveries[tag] = await recovery(t0);
          }
          expect(agents.filter((a) => a.child.exitCode !== null).map((a) => a.root)).toEqual([]);
        }
      }
      nextChunk();
      while (submitted < SCALE.tasks) nextChunk();
      await Promise.all(submitting);
      let pending: string[] = [];
      try {
        await waitUntil(
          async () => {
            pending = (await allDone()).pending;
            return pending.length === 0 ? true : undefined;
          },
          'all tasks succeeded',
          120_000,
        );
      } catch {}

      // Count: one task id per key, each succeeded with its own key, each executed.
      const executions = new Map<string, number>();
      for (const a of agents) {
        let text = '';
        try {
          text = readFileSync(path.join(a.root, 'executions.log'), 'utf8');
        } catch {}
        for (const line of text.split('\n').filter(Boolean)) {
          const key = line.split(' ')[0]!;
          executions.set(key, (executions.get(key) ?? 0) + 1);
        }
      }
      let wrongResult = 0;
      for (const [key, ids] of taskIds) {
        const r = await api('GET', `/v1/tasks/${[...ids][0]}`, tokens.get(keyTenant.get(key)!)!);
        const v = r.json as { state: string; result?: { output?: { key?: string } } };
        if (v.state === 'succeeded' && v.result?.output?.key !== key) wrongResult += 1;
      }
      const duplicates = [...taskIds.values()].filter((ids) => ids.size > 1).length;
      const neverExecuted = [...taskIds.keys()].filter((k) => !executions.has(k)).length;
      const reExecuted = [...executions.values()].filter((n) => n > 1).length;
      const lost = pending.length + (SCALE.tasks - taskIds.size);
      Object.assign(figures, {
        agents: SCALE.agents,
        tasks: SCALE.tasks,
        rounds: SCALE.faultRounds,
        tasksLost: lost,
        duplicateTasks: duplicates,
        wrongResults: wrongResult,
        succeededWithoutExecution: neverExecuted,
        reExecutedAfterLeaseLoss: reExecuted,
        executions: [...executions.values()].reduce((a, b) => a + b, 0),
        submitRetries,
        maxAgentCpuSecondsPerOutageWindow: cpuWindows,
        outageWindowSeconds: OUTAGE_MS / 1000,
        recoveryMs: recoveries,
        maxRecoveryMs: Math.max(...Object.values(recoveries)),
        proxy: proxy.stats(),
        wallSeconds: Math.round((Date.now() - started) / 1000),
      });
      expect(lost).toBe(0);
      expect(duplicates).toBe(0);
      expect(wrongResult).toBe(0);
      expect(neverExecuted).toBe(0);
      // A busy loop burns about one CPU second per second; backing off costs a few milliseconds.
      for (const [tag, cpu] of Object.entries(cpuWindows))
        expect(cpu, `agent CPU during ${tag}`).toBeLessThan((OUTAGE_MS / 1000) * 0.1);
    },
    FULL ? 1_800_000 : 150_000,
  );
});
