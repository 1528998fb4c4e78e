// Agent boot and idle cost (issue 4), interleaved with bare `node -e ''` in one run so ratios compare
// like with like: start → running (sources and the single-file bundle built exactly as `npm run
// build` ships it), env file written → registered (p50/p95), idle RSS after N s, CPU seconds over N s
// idle. Beside them the library floor (library-floor.ts: the libraries the agent boots on, used
// once, no agent logic), so the report shows what of the agent's cost is its own. Start is timed
// in wall time and, as the machine may be loaded by other work, in CPU time of the process (all its
// threads, /proc schedstat) at the moment it logs. N =
// CLAWDIE_BENCH_IDLE_SECONDS (default 60), rounds = CLAWDIE_BENCH_ROUNDS (default 15). Needs the
// reference hive (started here). Node's compile cache (NODE_COMPILE_CACHE) was measured here and
// gave nothing (its cache holds only the bundle's top level), so it is no longer a variant.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { BUNDLES, bundleOptions } from '../../image/bundle.ts';
import { nodeBinary, REPO_ROOT, startHive } from '../support/hive-process.ts';

const ROUNDS = Number(process.env.CLAWDIE_BENCH_ROUNDS ?? 15);
const IDLE_SECONDS = Number(process.env.CLAWDIE_BENCH_IDLE_SECONDS ?? 60);
const NODE = nodeBinary();
const work = mkdtempSync(path.join(tmpdir(), 'clawdie-agent-bench-'));
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * A bundle built with the options `npm run build` uses (minified, lazy builtins, plugins): the
 * agent, or the library floor (library-floor.ts: the agent's libraries, used once, no agent logic).
 */
async function buildBundle(name: 'clawdie-agent' | 'library-floor'): Promise<string> {
  const spec = BUNDLES.find((b) => b.name === 'clawdie-agent')!;
  const options = bundleOptions(
    name === 'clawdie-agent' ? spec : { name, entry: 'test/bench/library-floor.ts' },
    {
      repoRoot: REPO_ROOT,
      outDir: work,
      version: '0.0.0-bench',
      minify: true,
      zodImporterDirs: ['src', 'test/bench'],
    },
  );
  await build({ ...options, logLevel: 'error' });
  return options.outfile!;
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
};
const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

let roots = 0;
function newRoot(envText?: string): string {
  const root = path.join(work, `root-${roots++}`);
  mkdirSync(path.join(root, 'home/clawdie'), { recursive: true });
  if (envText) writeEnv(root, envText);
  return root;
}

function writeEnv(root: string, text: string): void {
  const tmp = path.join(root, 'home/clawdie/.env.tmp');
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path.join(root, 'home/clawdie/.env'));
}

/** CPU time of a live process, all threads, in ms (ns resolution, unlike /proc/PID/stat ticks). */
function cpuMs(pid: number): number {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that just ended
    }
  }
  return ns / 1e6;
}

/**
 * Spawns and resolves when a stdout line contains `marker` (ms since spawn), or on exit. `cpu` is
 * the process's CPU time when the marker came (NaN without a marker).
 */
function spawnUntil(
  args: string[],
  marker: string | null,
  onMarker?: () => void,
  env: Record<string, string> = {},
): { child: ChildProcess; at: Promise<number>; cpu: Promise<number> } {
  const t0 = performance.now();
  const child = spawn(NODE, args, {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let cpuAt = Number.NaN;
  const at = new Promise<number>((resolve, reject) => {
    let buf = '';
    // Never hang the bench: a process that does not get there in 30 s is killed and reported.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      buf += d;
      if (marker && buf.includes(marker)) {
        const t = performance.now() - t0;
        cpuAt = cpuMs(child.pid!);
        clearTimeout(timer);
        buf = '';
        onMarker?.();
        resolve(t);
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      if (marker) reject(new Error(`exited before "${marker}"`));
      else resolve(performance.now() - t0);
    });
  });
  return { child, at, cpu: at.then(() => cpuAt) };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
}

/** VmRSS, RssAnon or RssFile of a live process, in KiB. */
function rssKiB(pid: number, field = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? Number.NaN);
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

const hive = await startHive();
try {
  const token = await hive.mintToken('bench');
  const env = `CLAWDIE_TENANT=bench\nCLAWDIE_HIVE_URL=${hive.url}\nCLAWDIE_HIVE_TOKEN=${token}\nOPENROUTER_API_KEY=sk-bench\n`;
  const bundle = await buildBundle('clawdie-agent');
  const floor = await buildBundle('library-floor');
  const FLOOR_READY = '"msg":"library floor ready"';
  // (`--lite-mode` would save ~25 MiB RSS but disables WebAssembly, which undici's HTTP parser needs.)
  const REGISTERED = '"msg":"registered with the hive"';
  const agentRun = (entry: string) => () => [entry, 'run', '--root', newRoot(env)];
  const variants: Array<{
    name: string;
    args: () => string[];
    marker: string;
    env?: Record<string, string>;
  }> = [
    { name: 'sources', args: agentRun(path.join(REPO_ROOT, 'src/cli.ts')), marker: REGISTERED },
    { name: 'bundle', args: agentRun(bundle), marker: REGISTERED },
    { name: 'floor', args: () => [floor], marker: FLOOR_READY, env: { CLAWDIE_HIVE_URL: hive.url } },
  ];
  const bare: number[] = [];
  const bareCpu: number[] = [];
  const start: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
  const startCpu: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
  const envToRegistered: number[] = [];
  const load0 = loadavg()[0] ?? 0;

  for (let round = 0; round < ROUNDS; round++) {
    bare.push(await spawnUntil(['-e', ''], null).at);
    // The same bare node, stopped where it prints, for its CPU time (a process that exited has none).
    const printing = spawnUntil(['-e', 'console.log("ready"); setTimeout(() => {}, 30_000)'], 'ready');
    bareCpu.push(await printing.cpu);
    printing.child.kill('SIGKILL');
    for (const v of variants) {
      const { child, at, cpu } = spawnUntil(v.args(), v.marker, undefined, v.env);
      start[v.name]!.push(await at);
      startCpu[v.name]!.push(await cpu);
      await stop(child);
    }
    // env → registered: the agent (bundle) waits for its env; time from the rename to registration.
    const root = newRoot();
    let written = 0;
    const waiting = spawnUntil([bundle, 'run', '--root', root], '"msg":"env file', () => undefined);
    await waiting.at;
    // A host writes the .env long after the agent booted: let boot settle before timing.
    await new Promise((r) => setTimeout(r, 300));
    const registered = new Promise<number>((resolve) => {
      let buf = '';
      waiting.child.stdout!.on('data', (d: string) => {
        buf += d;
        if (buf.includes(REGISTERED)) resolve(performance.now() - written);
      });
    });
    written = performance.now();
    writeEnv(root, env);
    envToRegistered.push(await registered);
    await stop(waiting.child);
  }

  // Idle: a registered agent (bundle) beside the library floor and an idle bare node, same window.
  const idleAgent = spawnUntil([bundle, 'run', '--root', newRoot(env)], REGISTERED);
  await idleAgent.at;
  const idleFloor = spawnUntil([floor], FLOOR_READY, undefined, { CLAWDIE_HIVE_URL: hive.url });
  await idleFloor.at;
  const idleBare = spawn(NODE, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const pids = [idleAgent.child.pid!, idleFloor.child.pid!, idleBare.pid!];
  const cpu0 = pids.map(cpuSeconds);
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const [idleCpu, , bareIdleCpu] = pids.map((p, i) => cpuSeconds(p) - cpu0[i]!) as [number, number, number];
  const [agentRss, floorRss, bareRss] = pids.map((p) => rssKiB(p)) as [number, number, number];
  const [agentAnon, floorAnon, bareAnon] = pids.map((p) => rssKiB(p, 'RssAnon')) as [number, number, number];
  await stop(idleAgent.child);
  await stop(idleFloor.child);
  idleBare.kill('SIGKILL');

  const bareP50 = quantile(bare, 0.5);
  const bareCpuP50 = quantile(bareCpu, 0.5);
  const lines = [
    `rounds: ${ROUNDS} (interleaved), idle window: ${IDLE_SECONDS} s, node ${execFileSync(NODE, ['-v'], { encoding: 'utf8' }).trim()}, load average ${load0.toFixed(1)} → ${(loadavg()[0] ?? 0).toFixed(1)}`,
    `bare node -e '' start→exit   p50 ${fmt(bareP50)}  p95 ${fmt(quantile(bare, 0.95))}  (CPU p50 ${fmt(bareCpuP50)})`,
  ];
  for (const { name } of variants) {
    const xs = start[name]!;
    const ratio = quantile(xs, 0.5) / bareP50;
    const cpuRatio = quantile(startCpu[name]!, 0.5) / bareCpuP50;
    const verdict = name !== 'bundle' ? '' : ratio <= 2 ? '  [target ≤ 2× met]' : '  [target ≤ 2× MISSED]';
    const label = name === 'floor' ? 'library floor start→ready  ' : `agent ${name.padEnd(11)} start→running`;
    lines.push(
      `${label} p50 ${fmt(quantile(xs, 0.5))}  p95 ${fmt(quantile(xs, 0.95))}  = ${ratio.toFixed(2)}× bare${verdict}  (CPU p50 ${fmt(quantile(startCpu[name]!, 0.5))} = ${cpuRatio.toFixed(2)}× bare)`,
    );
  }
  const e50 = quantile(envToRegistered, 0.5);
  lines.push(
    `env written→registered        p50 ${fmt(e50)}  p95 ${fmt(quantile(envToRegistered, 0.95))}  [target p50 ≤ 50 ms ${e50 <= 50 ? 'met' : 'MISSED'}]`,
  );
  const rssRatio = agentRss / bareRss;
  lines.push(
    `idle RSS after ${IDLE_SECONDS} s: agent ${(agentRss / 1024).toFixed(1)} MiB, bare node ${(bareRss / 1024).toFixed(1)} MiB = ${rssRatio.toFixed(2)}×  [target ≤ 1.3× ${rssRatio <= 1.3 ? 'met' : 'MISSED'}]  (anonymous ${(agentAnon / 1024).toFixed(1)} vs ${(bareAnon / 1024).toFixed(1)} MiB; the rest is file-backed, mostly node's own code)`,
  );
  const MiB = (kib: number): string => (kib / 1024).toFixed(1);
  lines.push(
    `idle RSS of the library floor: ${MiB(floorRss)} MiB = ${(floorRss / bareRss).toFixed(2)}× bare (anonymous ${MiB(floorAnon)} MiB); the agent over its floor: ${(agentRss / floorRss).toFixed(2)}×`,
  );
  const floorStart = quantile(start.floor!, 0.5);
  lines.push(
    `the agent's start over its floor: ${(quantile(start.bundle!, 0.5) / floorStart).toFixed(2)}× (floor = ${(floorStart / bareP50).toFixed(2)}× bare: the libraries alone, used once)`,
  );
  lines.push(
    `idle CPU over ${IDLE_SECONDS} s: agent ${idleCpu.toFixed(3)} s, bare node ${bareIdleCpu.toFixed(3)} s  [target ≈ 0]`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await hive.stop();
  rmSync(work, { recursive: true, force: true });
}
