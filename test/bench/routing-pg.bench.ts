// Routing on PostgreSQL (issue 10) beside SQLite, in one run with one client: 50 agents long-poll
// over loopback with undici keep-alive (in worker threads), every request of agents and submitter
// going to the next replica in turn. Scenarios: the SQLite coordinator (the baseline of this run),
// one PostgreSQL replica, three PostgreSQL replicas over one database (a poll parked on one replica
// is woken through LISTEN/NOTIFY when the submit lands on another). Reported per scenario: tasks/s
// submitted→leased→completed (closed loop, ≤ WINDOW outstanding), dispatch latency (submit sent →
// assignment received) at full speed and paced at half that rate (p50/p99), and the ratio to SQLite.
// PostgreSQL runs a throwaway cluster with its default durability (fsync, synchronous_commit on),
// unless BENCH_PG_DURABLE=0. Exits 1 if a task was lost or delivered twice; targets are reported.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Agent, request } from 'undici';
import { type HiveProcess, startHive } from '../support/hive-process.ts';
import { startPostgres } from '../support/postgres.ts';

const AGENTS = 50;
const THREADS = 2;
const WARMUP = 300;
const TASKS = Number(process.env.BENCH_PG_TASKS ?? 4000);
const WINDOW = 100;
const CAP_SECONDS = 60;
const PACED_SECONDS = 3;
const PACED_MAX = 3000;
const DONE = 0;
const STOP = 1;

type Phase = 'warm' | 'max' | 'paced';
const now = (): number => performance.timeOrigin + performance.now();

/** The routing bench's client: keep-alive undici, JSON in and out; here spread over replica URLs. */
function client(urls: string[], connections: number) {
  const dispatcher = new Agent({ connections, keepAliveTimeout: 30_000 });
  let turn = 0;
  const send = async (method: 'GET' | 'POST', path: string, token: string, body?: unknown) => {
    const res = await request(`${urls[turn++ % urls.length]}${path}`, {
      method,
      dispatcher,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };
  return { send, close: () => dispatcher.close() };
}

interface WorkerInput {
  urls: string[];
  token: string;
  agentIds: string[];
  shared: SharedArrayBuffer;
}

/** Worker thread: a share of the agents, each polling, answering, polling again. */
async function agentsThread(w: WorkerInput): Promise<void> {
  const counters = new Int32Array(w.shared);
  const { send, close } = client(w.urls, w.agentIds.length + 4);
  const latencies: Record<Exclude<Phase, 'warm'>, number[]> = { max: [], paced: [] };
  const seen: string[] = [];
  const loop = async (agentId: string): Promise<void> => {
    while (Atomics.load(counters, STOP) === 0) {
      const r = await send('GET', `/v1/agents/${agentId}/tasks?wait=1`, w.token);
      if (r.status === 204) continue;
      if (r.status !== 200 || !r.json) throw new Error(`poll: ${r.status}`);
      const received = now();
      const input = r.json.input as { t0: number; phase: Phase };
      const taskId = String(r.json.taskId);
      const res = await send('POST', `/v1/tasks/${taskId}/result`, w.token, {
        status: 'ok',
        output: null,
        agentId,
      });
      if (res.status !== 200) throw new Error(`result: ${res.status} ${JSON.stringify(res.json)}`);
      seen.push(taskId);
      if (input.phase !== 'warm') latencies[input.phase].push(received - input.t0);
      Atomics.add(counters, DONE, 1);
      Atomics.notify(counters, DONE);
    }
  };
  const beat = setInterval(() => {
    for (const id of w.agentIds) void send('POST', `/v1/agents/${id}/heartbeat`, w.token, {});
  }, 5000);
  await Promise.all(w.agentIds.map(loop));
  clearInterval(beat);
  await close();
  parentPort!.postMessage({ latencies, seen });
}

/** [own, children that exited] CPU seconds of a process, from /proc (Linux); NaN elsewhere. */
function cpuOf(pid: number): [number, number] {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return [(Number(f[11]) + Number(f[12])) / 100, (Number(f[13]) + Number(f[14])) / 100];
  } catch {
    return [Number.NaN, Number.NaN];
  }
}

/** CPU seconds used so far by the PostgreSQL server: postmaster, live backends and exited ones. */
function serverCpu(postmaster: number): number {
  let total = cpuOf(postmaster).reduce((a, b) => a + b, 0);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const f = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(f[1]) === postmaster) total += (Number(f[11]) + Number(f[12])) / 100;
    } catch {}
  }
  return total;
}

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;

interface Figures {
  scenario: string;
  tasksPerSecond: number;
  p99MsFullSpeed: number;
  pacedRate: number;
  p50MsPaced: number;
  p99MsPaced: number;
  /** CPU per task in the max phase: coordinator replicas together, and the PostgreSQL server. */
  hiveCpuMsPerTask: number;
  dbCpuMsPerTask: number;
  ok: boolean;
  note: string;
}

/** One scenario: agents and submitter against `replicas` (already started on one database). */
async function measure(
  scenario: string,
  replicas: HiveProcess[],
  adminToken: string,
  postmaster: number | null,
): Promise<Figures> {
  const hiveCpu = (): number => replicas.reduce((sum, r) => sum + cpuOf(r.child.pid!)[0], 0);
  const dbCpu = (): number => (postmaster === null ? 0 : serverCpu(postmaster));
  const urls = replicas.map((r) => r.url);
  const { send, close } = client(urls, WINDOW + 8);
  try {
    const m = await send('POST', '/v1/admin/tenants/bench/token', adminToken, {});
    const token = String(m.json?.token);
    const agentIds = Array.from({ length: AGENTS }, (_, i) => `bench-${i}`);
    for (const agentId of agentIds) {
      const r = await send('POST', '/v1/agents', token, {
        agentId,
        tenant: 'bench',
        capabilities: ['bench'],
        identityHash: 'b'.repeat(64),
        version: '0',
        os: 'bench',
      });
      if (r.status !== 200) throw new Error(`register ${agentId}: ${r.status}`);
    }
    const shared = new SharedArrayBuffer(8);
    const counters = new Int32Array(shared);
    const results: Promise<{ latencies: Record<'max' | 'paced', number[]>; seen: string[] }>[] = [];
    for (let i = 0; i < THREADS; i++) {
      const input: WorkerInput = {
        urls,
        token,
        agentIds: agentIds.filter((_, j) => j % THREADS === i),
        shared,
      };
      const w = new Worker(new URL(import.meta.url), { workerData: input });
      results.push(
        new Promise((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        }),
      );
    }
    let submitted = 0;
    const submit = async (count: number, phase: Phase): Promise<void> => {
      let left = count;
      const one = async (): Promise<void> => {
        while (left > 0) {
          const done = Atomics.load(counters, DONE);
          if (submitted - done >= WINDOW) {
            await Atomics.waitAsync(counters, DONE, done, 1000).value;
            continue;
          }
          left--;
          submitted++;
          const r = await send('POST', '/v1/tasks', token, {
            capability: 'bench',
            input: { t0: now(), phase },
          });
          if (r.status !== 201) throw new Error(`submit: ${r.status}`);
        }
      };
      await Promise.all(Array.from({ length: WINDOW }, one));
    };
    const settle = async (target: number, deadline: number): Promise<void> => {
      while (Atomics.load(counters, DONE) < target && now() < deadline) {
        await Atomics.waitAsync(counters, DONE, Atomics.load(counters, DONE), 200).value;
      }
    };

    await submit(WARMUP, 'warm');
    await settle(WARMUP, now() + 20_000);
    const [hive0, db0] = [hiveCpu(), dbCpu()];
    const t0 = now();
    await submit(TASKS, 'max');
    await settle(WARMUP + TASKS, t0 + CAP_SECONDS * 1000);
    const seconds = (now() - t0) / 1000;
    const completed = Atomics.load(counters, DONE) - WARMUP;
    const [hiveMs, dbMs] = [(hiveCpu() - hive0) * 1000, (dbCpu() - db0) * 1000];
    const rate = completed / seconds;

    const pacedRate = Math.max(50, Math.round(rate / 2));
    const pacedCount = Math.min(PACED_MAX, Math.round(pacedRate * PACED_SECONDS));
    const pending: Promise<unknown>[] = [];
    const p0 = now();
    for (let sent = 0; sent < pacedCount; ) {
      const due = Math.min(pacedCount, Math.floor(((now() - p0) / 1000) * pacedRate));
      for (; sent < due; sent++) {
        pending.push(
          send('POST', '/v1/tasks', token, { capability: 'bench', input: { t0: now(), phase: 'paced' } }),
        );
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(pending);
    await settle(WARMUP + completed + pacedCount, now() + 20_000);
    const pacedDone = Atomics.load(counters, DONE) - WARMUP - completed;
    Atomics.store(counters, STOP, 1);
    const parts = await Promise.all(results);
    const seen = parts.flatMap((p) => p.seen);
    const duplicates = seen.length - new Set(seen).size;
    const full = parts.flatMap((p) => p.latencies.max).sort((a, b) => a - b);
    const paced = parts.flatMap((p) => p.latencies.paced).sort((a, b) => a - b);
    return {
      scenario,
      tasksPerSecond: Math.round(rate),
      p99MsFullSpeed: pct(full, 0.99),
      pacedRate,
      p50MsPaced: pct(paced, 0.5),
      p99MsPaced: pct(paced, 0.99),
      hiveCpuMsPerTask: hiveMs / completed,
      dbCpuMsPerTask: dbMs / completed,
      ok: completed === TASKS && pacedDone === pacedCount && duplicates === 0,
      note: `${completed}/${TASKS} + paced ${pacedDone}/${pacedCount} completed, ${duplicates} twice, ${seconds.toFixed(2)} s`,
    };
  } finally {
    await close();
  }
}

async function scenario(name: string, dbPaths: string[], postmaster: number | null = null): Promise<Figures> {
  const adminToken = randomBytes(32).toString('base64url');
  const replicas = await Promise.all(
    dbPaths.map((dbPath) =>
      startHive({ pollSeconds: 25, leaseSeconds: 60, adminToken, dbPath: dbPath || undefined }),
    ),
  );
  try {
    return await measure(name, replicas, adminToken, postmaster);
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
  }
}

/** BENCH_PG_REPLICAS (default "1,3"): the PostgreSQL scenarios; BENCH_PG_SQLITE=0 skips the baseline. */
const REPLICA_COUNTS = (process.env.BENCH_PG_REPLICAS ?? '1,3')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);

async function main(): Promise<number> {
  const figures: Figures[] = [];
  if (process.env.BENCH_PG_SQLITE !== '0') figures.push(await scenario('sqlite ×1', ['']));
  const pg = await startPostgres({ durable: process.env.BENCH_PG_DURABLE !== '0' });
  if ('skip' in pg) {
    process.stdout.write(`postgres scenarios skipped: ${pg.skip}\n`);
  } else {
    try {
      for (const n of REPLICA_COUNTS) {
        const db = await pg.createDatabase();
        figures.push(
          await scenario(
            `postgres ×${n}`,
            Array.from({ length: n }, () => db),
            pg.pid(),
          ),
        );
      }
    } finally {
      await pg.stop();
    }
  }
  const base = figures[0]?.scenario.startsWith('sqlite') ? figures[0].tasksPerSecond : Number.NaN;
  const f2 = (n: number): string => n.toFixed(2).padStart(7);
  const lines = [
    `${AGENTS} agents in ${THREADS} threads, ≤ ${WINDOW} outstanding, requests round-robin over the replicas; postgres durable: ${process.env.BENCH_PG_DURABLE !== '0'}`,
    'scenario       tasks/s  ×sqlite  p99 full  paced at  p50 paced  p99 paced (ms)  CPU ms/task: hive + db',
    ...figures.map(
      (f) =>
        `${f.scenario.padEnd(13)} ${String(f.tasksPerSecond).padStart(8)} ${f2(f.tasksPerSecond / base)}  ${f2(f.p99MsFullSpeed)}  ${String(f.pacedRate).padStart(6)}/s  ${f2(f.p50MsPaced)}    ${f2(f.p99MsPaced)}       ${f.hiveCpuMsPerTask.toFixed(3)} + ${f.dbCpuMsPerTask.toFixed(3)}   ${f.note}`,
    ),
    `load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores (replicas, PostgreSQL and the client share them)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'routing-pg', figures })}\n`);
  return figures.every((f) => f.ok) ? 0 : 1;
}

if (isMainThread) process.exitCode = await main();
else await agentsThread(workerData as WorkerInput);
