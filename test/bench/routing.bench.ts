// Routing benchmark (issue 3): the reference coordinator as a real process; 50 agents long-poll it
// over loopback through raw undici pools (keep-alive, pipelining 1, a bare dispatch handler instead
// of request()'s body stream: the client shares the 2 cores, so it must cost little) in worker
// threads (the client and threads live in routing-client.ts, shared with routing-pg.bench.ts);
// the main thread submits. Reports tasks/s submitted→leased→completed and the dispatch latency
// (submit sent → assignment received) p50/p99, beside a baseline from the same run: a bare node:http
// echo server (own process) driven by the same client, so the figures read as ratios.
// Run twice, metrics on (scraped every second) and `--metrics off`, for what the metrics cost.
// Submission is closed-loop (at most WINDOW tasks outstanding), so latency is dispatch, not a queue
// the benchmark itself piled up. Bounded in task count and wall time. Exits 1 if a task was lost or
// delivered twice; the targets (≥ 2,000 tasks/s, p99 < 20 ms) are reported, not enforced.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { nodeBinary, startHive } from '../support/hive-process.ts';
import { client, now, pct, type RoutingPlan, runRouting } from './routing-client.ts';

const PLAN: RoutingPlan = {
  agents: 50,
  threads: Number(process.env.BENCH_THREADS ?? 2),
  // Long enough for V8 to have optimized the coordinator's hot paths: with 500 warm-up tasks a third
  // of its CPU in the measured phase still went to the JIT compiler threads.
  warmup: Number(process.env.BENCH_WARMUP ?? 3000),
  tasks: Number(process.env.BENCH_TASKS ?? 20000),
  window: 100,
  capSeconds: 60,
  pacedSeconds: 4,
  pacedMax: 4000,
};
const { agents: AGENTS, threads: THREADS, warmup: WARMUP, tasks: TASKS, window: WINDOW } = PLAN;

/** CPU seconds (user + system) a process has used so far, from /proc (Linux), or NaN. */
function cpuSeconds(pid: number): number {
  const t = cpuTimes(pid);
  return t.user + t.system;
}

/** CPU seconds of one thread of this process (its main thread: tid = pid), or NaN. */
function threadCpuSeconds(tid: number): number {
  const t = cpuTimes(tid, `/proc/self/task/${tid}/stat`);
  return t.user + t.system;
}

function cpuTimes(pid: number, file = `/proc/${pid}/stat`): { user: number; system: number } {
  try {
    const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
    return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
  } catch {
    return { user: Number.NaN, system: Number.NaN };
  }
}

/** Baseline: round trips per second against a bare node:http echo server, same client and concurrency. */
async function baseline(requests: number): Promise<{ rate: number; cpuMsPerRequest: number }> {
  const script = `const s=require('node:http').createServer((q,r)=>{const c=[];q.on('data',d=>c.push(d));q.on('end',()=>{const b=Buffer.concat(c);r.writeHead(200,{'content-type':'application/json','content-length':b.length});r.end(b)})});s.keepAliveTimeout=30000;s.listen(0,'127.0.0.1',()=>console.log(s.address().port))`;
  const child = spawn(nodeBinary(), ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout! }).once('line', resolve),
  );
  const { send, close } = client([`http://127.0.0.1:${port}`], WINDOW + 4);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next++ < requests) await send('POST', '/', 'x', { capability: 'bench', input: { t0: 0 } });
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  next = 0;
  const cpu0 = cpuSeconds(child.pid!);
  const t0 = now();
  await Promise.all(Array.from({ length: WINDOW }, worker));
  const rate = requests / ((now() - t0) / 1000);
  const cpuMsPerRequest = ((cpuSeconds(child.pid!) - cpu0) * 1000) / requests;
  child.kill();
  await close();
  return { rate, cpuMsPerRequest };
}

type Baseline = { rate: number; cpuMsPerRequest: number };

interface Measured {
  base: Baseline;
  rate: number;
  hiveCpuMsPerTask: number;
  p99Paced: number;
  ok: boolean;
  lines: string[];
  json: Record<string, unknown>;
}

/**
 * One run against a fresh coordinator started with `args`; with `scrapeMs`, /metrics is scraped at
 * that interval all along (as Prometheus would), so its cost is part of what is measured.
 */
async function measure(args: string[], scrapeMs: number | null, known: Baseline | null): Promise<Measured> {
  // For profiling the coordinator: BENCH_HIVE_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=DIR' (V8
  // profile, written when it stops) or '--perf-basic-prof' (JS symbols for `perf record -p PID`).
  const hiveOptions = process.env.BENCH_HIVE_NODE_OPTIONS;
  const hive = await startHive({
    pollSeconds: 25,
    leaseSeconds: 60,
    args,
    ...(hiveOptions ? { env: { NODE_OPTIONS: hiveOptions } } : {}),
  });
  const { send, close } = client([hive.url], WINDOW + 8);
  let scrapes = 0;
  const scraper =
    scrapeMs === null
      ? null
      : setInterval(() => {
          void fetch(`${hive.url}/metrics`, { headers: { authorization: `Bearer ${hive.adminToken}` } })
            .then((r) => r.text())
            .then(() => {
              scrapes++;
            });
        }, scrapeMs);
  try {
    const token = await hive.mintToken('bench');
    let hiveCpu = 0;
    let hiveSys = 0;
    let ownCpu = 0;
    let submitterCpu = 0;
    const r = await runRouting(send, [hive.url], token, PLAN, () => {
      const hiveTimes0 = cpuTimes(hive.child.pid!);
      const ownCpu0 = process.cpuUsage();
      const mainCpu0 = threadCpuSeconds(process.pid); // the submitting main thread alone
      return () => {
        const hiveTimes = cpuTimes(hive.child.pid!);
        hiveSys = hiveTimes.system - hiveTimes0.system;
        hiveCpu = hiveTimes.user - hiveTimes0.user + hiveSys;
        const own = process.cpuUsage(ownCpu0);
        ownCpu = (own.user + own.system) / 1e6;
        submitterCpu = threadCpuSeconds(process.pid) - mainCpu0;
      };
    });
    const { completed, seconds, rate, pacedRate, pacedCount, pacedDone, duplicates, full: sorted, paced } = r;
    const ms = (xs: number[]): string =>
      `p50 ${pct(xs, 0.5).toFixed(2)} ms, p99 ${pct(xs, 0.99).toFixed(2)} ms, max ${(xs.at(-1) ?? Number.NaN).toFixed(2)} ms`;
    const base = known ?? (await baseline(Math.min(TASKS * 3, 30_000)));
    const hiveMsPerRequest = (hiveCpu * 1000) / completed / 3;
    const lines = [
      `tasks: ${completed}/${TASKS} completed (+${WARMUP} warm-up), ${duplicates} delivered twice; ${AGENTS} agents in ${THREADS} threads, ≤ ${WINDOW} outstanding`,
      `throughput: ${rate.toFixed(0)} tasks/s submitted→leased→completed in ${seconds.toFixed(2)} s (target ≥ 2000)`,
      `dispatch latency at full speed (≤ ${WINDOW} outstanding, includes waiting for a free agent): ${ms(sorted)}`,
      `dispatch latency paced at ${pacedRate} tasks/s (${pacedDone}/${pacedCount} tasks): ${ms(paced)} (target p99 < 20 ms)`,
      `cpu: hive process ${hiveCpu.toFixed(2)} s (${((hiveCpu * 1000) / completed).toFixed(3)} ms/task, ${((100 * hiveSys) / hiveCpu).toFixed(0)}% in the kernel), benchmark client ${ownCpu.toFixed(2)} s (${((ownCpu * 1000) / completed).toFixed(3)} ms/task: submitter ${((submitterCpu * 1000) / completed).toFixed(3)}, agent threads ${(((ownCpu - submitterCpu) * 1000) / completed).toFixed(3)}), over ${seconds.toFixed(2)} s wall; load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores`,
      `baseline: bare node:http echo (own process), ${base.rate.toFixed(0)} req/s with the same client, ${base.cpuMsPerRequest.toFixed(3)} ms CPU/req`,
      `ratio: hive ${(rate * 3).toFixed(0)} req/s (3 per task) = ${((rate * 3) / base.rate).toFixed(2)} × baseline throughput; hive CPU per request = ${(hiveMsPerRequest / base.cpuMsPerRequest).toFixed(2)} × baseline`,
      `capacity: one free core would carry ≈ ${(1000 / ((hiveCpu * 1000) / completed)).toFixed(0)} tasks/s of hive work at this CPU cost`,
    ];
    if (scraper)
      lines.push(`metrics: /metrics scraped ${scrapes} times (every ${scrapeMs} ms) during the run`);
    return {
      base,
      rate,
      hiveCpuMsPerTask: (hiveCpu * 1000) / completed,
      p99Paced: pct(paced, 0.99),
      ok: completed === TASKS && pacedDone === pacedCount && duplicates === 0,
      lines,
      json: {
        bench: 'routing',
        tasksPerSecond: Math.round(rate),
        p99MsFullSpeed: pct(sorted, 0.99),
        pacedRate,
        p50MsPaced: pct(paced, 0.5),
        p99MsPaced: pct(paced, 0.99),
        baselineReqPerSecond: Math.round(base.rate),
        hiveCpuMsPerTask: (hiveCpu * 1000) / completed,
        clientCpuMsPerTask: (ownCpu * 1000) / completed,
        baselineCpuMsPerRequest: base.cpuMsPerRequest,
      },
    };
  } finally {
    if (scraper) clearInterval(scraper);
    await close();
    await hive.stop();
  }
}

/**
 * The coordinator as shipped (metrics on, scraped every second), then the same run with
 * `--metrics off`: the ratio is what the metrics cost the hot paths (issue 19).
 */
async function main(): Promise<number> {
  const on = await measure([], 1000, null);
  process.stdout.write(`${on.lines.join('\n')}\n`);
  const off = await measure(['--metrics', 'off'], null, on.base);
  process.stdout.write(
    `metrics overhead: with metrics on (scraped every 1 s) vs --metrics off: throughput ${on.rate.toFixed(0)} vs ${off.rate.toFixed(0)} tasks/s (${(on.rate / off.rate).toFixed(2)} ×), hive CPU ${on.hiveCpuMsPerTask.toFixed(3)} vs ${off.hiveCpuMsPerTask.toFixed(3)} ms/task (${(on.hiveCpuMsPerTask / off.hiveCpuMsPerTask).toFixed(2)} ×), paced p99 ${on.p99Paced.toFixed(2)} vs ${off.p99Paced.toFixed(2)} ms; load average ${loadavg()[0]!.toFixed(2)}\n`,
  );
  process.stdout.write(
    `${JSON.stringify({ ...on.json, metricsOffTasksPerSecond: Math.round(off.rate), metricsOffHiveCpuMsPerTask: off.hiveCpuMsPerTask, metricsCpuRatio: on.hiveCpuMsPerTask / off.hiveCpuMsPerTask })}\n`,
  );
  return on.ok && off.ok ? 0 : 1;
}

process.exitCode = await main();
