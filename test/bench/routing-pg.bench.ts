// Routing on PostgreSQL (issue 10) beside SQLite, in one run with one client: 50 agents long-poll
// over loopback through the routing bench's client (routing-client.ts: undici keep-alive pools, in
// worker threads), every request of agents and submitter going to the next replica in turn. Scenarios: the SQLite coordinator (the baseline of this run),
// one PostgreSQL replica, three PostgreSQL replicas over one database (a poll parked on one replica
// is woken through LISTEN/NOTIFY when the submit lands on another). Reported per scenario: tasks/s
// submitted→leased→completed (closed loop, ≤ WINDOW outstanding), dispatch latency (submit sent →
// assignment received) at full speed and paced at half that rate (p50/p99), and the ratio to SQLite.
// PostgreSQL runs a throwaway cluster with its default durability (fsync, synchronous_commit on),
// unless BENCH_PG_DURABLE=0. Exits 1 if a task was lost or delivered twice; targets are reported.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { type HiveProcess, startHive } from '../support/hive-process.ts';
import { startPostgres } from '../support/postgres.ts';
import { client, pct, type RoutingPlan, runRouting } from './routing-client.ts';

const PLAN: RoutingPlan = {
  threads: 2,
  agents: 50,
  tasks: Number(process.env.BENCH_PG_TASKS ?? 4000),
  warmup: 300,
  window: 100,
  pacedSeconds: 3,
  pacedMax: 3000,
  capSeconds: 60,
};
const { agents: AGENTS, threads: THREADS, tasks: TASKS, window: WINDOW } = PLAN;

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
    let hiveMs = 0;
    let dbMs = 0;
    const r = await runRouting(send, urls, token, PLAN, () => {
      const [hive0, db0] = [hiveCpu(), dbCpu()];
      return () => {
        [hiveMs, dbMs] = [(hiveCpu() - hive0) * 1000, (dbCpu() - db0) * 1000];
      };
    });
    const { completed, seconds, rate, pacedRate, pacedCount, pacedDone, duplicates, full, paced } = r;
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

process.exitCode = await main();
