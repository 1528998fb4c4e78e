// Density (issue 18, DESIGN §11): how many idle agents fit in 24 GiB. Starts N agents (the built
// bundle, each registered with the reference hive, idle) and reads each one's memory from
// /proc/PID/smaps_rollup once they have settled: PSS (its share of every page it maps, what it
// really costs the machine), USS (its private pages) and RSS; plus the hive's RSS.
// As root on Linux the agents run in `linux` backend jails, side by side in one run:
//   shared  every jail on the same body version (the shipped layout: one read-only bind mount)
//   copies  each jail on its own copy of that body (what a copy of node per jail costs)
// Elsewhere (not root) the `dir` layout: N agents on one node, each with its own root dir.
// The last line is one JSON object: {"bench":"density","layout":"shared","agents":N,
// "pssMiBPerAgent":…,"agentsPer24GiB":…, …}. Knobs: CLAWDIE_BENCH_AGENTS (default 50),
// CLAWDIE_BENCH_SETTLE_SECONDS (after the last agent is running, default 45),
// CLAWDIE_BENCH_LAYOUTS (default "shared,copies"), CLAWDIE_BENCH_BACKEND=dir to force the dir layout.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Server } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { installBody, removeVersionDir } from '../../host-helper/body/store.ts';
import { linuxBackend } from '../../host-helper/jails/linux.ts';
import { assembleLinuxRoot, JAIL_INIT } from '../../image/linux/rootfs.ts';
import { linkJailToHive } from '../e2e/support/hive-link.ts';
import { nodeBinary, REPO_ROOT, startHive } from '../support/hive-process.ts';

const N = Number(process.env.CLAWDIE_BENCH_AGENTS ?? 50);
const SETTLE_S = Number(process.env.CLAWDIE_BENCH_SETTLE_SECONDS ?? 45);
const UID = 1789;
const MiB = 1024;
const GIB24_KIB = 24 * 1024 * 1024;
const CAN_JAIL =
  process.platform === 'linux' &&
  process.getuid?.() === 0 &&
  process.env.CLAWDIE_BENCH_BACKEND !== 'dir' &&
  ['/usr/bin/unshare', '/usr/bin/nsenter', '/usr/bin/setpriv', '/usr/sbin/ip'].every((t) => fs.existsSync(t));
const LAYOUTS = CAN_JAIL ? (process.env.CLAWDIE_BENCH_LAYOUTS ?? 'shared,copies').split(',') : ['dir'];
const BATCH = 8;

interface Mem {
  pss: number;
  uss: number;
  rss: number;
}

/** PSS, USS (private clean + dirty) and RSS of a process, in KiB. */
function memOf(pid: number): Mem {
  const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kib = (k: string): number =>
    Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { pss: kib('Pss'), uss: kib('Private_Clean') + kib('Private_Dirty'), rss: kib('Rss') };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitRunning(statusFile: string, what: string, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (JSON.parse(fs.readFileSync(statusFile, 'utf8')).state === 'running') return;
    } catch {
      // not written yet
    }
    await sleep(100);
  }
  throw new Error(`${what} did not reach running`);
}

function writeEnv(root: string, env: string, uid: number): void {
  const file = path.join(root, 'home/clawdie/.env');
  fs.writeFileSync(file, env, { mode: 0o600 });
  fs.chownSync(file, uid, uid);
}

/** Runs `fn` over items, `BATCH` at a time (boot is CPU-bound; this box has 2 cores). */
async function inBatches<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await Promise.all(items.slice(i, i + BATCH).map(fn));
}

const work = fs.mkdtempSync(path.join(tmpdir(), 'clawdie-density-'));
const hive = await startHive();
const links: Server[] = [];
const dirAgents: ChildProcess[] = [];
/** Stops every jail started so far (also when the run fails half-way). */
const stoppers: Array<() => Promise<void>> = [];
const results: Record<string, { mems: Mem[]; bootS: number }> = {};
const load0 = loadavg();
try {
  execFileSync(nodeBinary(), [path.join(REPO_ROOT, 'image/build.ts'), '--outdir', path.join(work, 'dist')]);
  const token = await hive.mintToken('bench');
  const env = `CLAWDIE_TENANT=bench\nCLAWDIE_HIVE_URL=${hive.url}\nCLAWDIE_HIVE_TOKEN=${token}\nOPENROUTER_API_KEY=sk-bench\n`;
  const hivePort = Number(new URL(hive.url).port);
  const store = path.join(work, 'bodies');
  const template = path.join(work, 'template');
  if (CAN_JAIL) {
    fs.mkdirSync(store, { mode: 0o755 });
    await installBody(store, { from: path.join(work, 'dist/body'), runtime: 'linux', nodeBin: nodeBinary() });
    assembleLinuxRoot({ outDir: template, uid: UID });
  }
  const version = CAN_JAIL ? fs.readlinkSync(path.join(store, 'current')) : '';

  for (const layout of LAYOUTS) {
    const t0 = performance.now();
    const pids: number[] = [];
    const names = Array.from({ length: N }, (_, i) => `${layout}-${i}`);
    if (layout === 'dir') {
      const bundle = path.join(work, 'dist', 'clawdie-agent.mjs');
      await inBatches(names, async (name) => {
        const root = path.join(work, 'dir', name);
        fs.mkdirSync(path.join(root, 'home/clawdie'), { recursive: true });
        fs.writeFileSync(path.join(root, 'home/clawdie/.env'), env, { mode: 0o600 });
        const child = spawn(nodeBinary(), [bundle, 'run', '--root', root], {
          stdio: 'ignore',
          env: { PATH: process.env.PATH ?? '', CLAWDIE_USER: 'clawdie' },
        });
        dirAgents.push(child);
        pids.push(child.pid!);
        await waitRunning(path.join(root, 'var/db/clawdie/status.json'), name);
      });
    } else {
      const jails = path.join(work, `jails-${layout}`);
      fs.mkdirSync(jails, { mode: 0o700 });
      await inBatches(names, async (name) => {
        // copies: the same version, copied (no hard links) into a store of the jail's own.
        let bodies = store;
        if (layout === 'copies') {
          bodies = path.join(work, 'stores', name);
          fs.mkdirSync(bodies, { recursive: true });
          execFileSync('cp', [
            '-a',
            '--reflink=never',
            path.join(store, version),
            path.join(bodies, version),
          ]);
          fs.symlinkSync(version, path.join(bodies, 'current'));
        }
        const b = linuxBackend({ root: jails, user: 'clawdie', template, init: JAIL_INIT, bodies });
        await b.create(name);
        writeEnv(path.join(jails, name, 'root'), env, UID);
        await b.start(name);
        stoppers.push(() => b.stop(name));
        const upid = fs.readFileSync(path.join(jails, name, 'unshare.pid'), 'utf8').trim();
        const init = Number(fs.readFileSync(`/proc/${upid}/task/${upid}/children`, 'utf8').trim());
        pids.push(init);
        links.push(await linkJailToHive(init, hivePort, nodeBinary()));
        await waitRunning(path.join(jails, name, 'root/var/db/clawdie/status.json'), name);
      });
    }
    const bootS = (performance.now() - t0) / 1000;
    process.stdout.write(
      `${layout}: ${N} agents running after ${bootS.toFixed(0)} s; settling ${SETTLE_S} s\n`,
    );
    await sleep(SETTLE_S * 1000);
    results[layout] = { mems: pids.map(memOf), bootS };
    const hiveMem = memOf(hive.child.pid!);
    process.stdout.write(
      `${layout}: hive RSS ${(hiveMem.rss / MiB).toFixed(1)} MiB, PSS ${(hiveMem.pss / MiB).toFixed(1)} MiB\n`,
    );
    for (const stop of stoppers.splice(0)) await stop();
    for (const child of dirAgents.splice(0)) child.kill('SIGKILL');
    for (const l of links.splice(0)) l.close();
    if (layout === 'copies') {
      for (const name of names) removeVersionDir(path.join(work, 'stores', name, version));
    }
  }

  const hiveRss = memOf(hive.child.pid!).rss / MiB;
  const load1 = loadavg();
  const rows: Record<string, unknown>[] = [];
  process.stdout.write(
    `\n${N} idle agents per layout, ${SETTLE_S} s settled, node ${execFileSync(nodeBinary(), ['-v'], { encoding: 'utf8' }).trim()}, load average ${load0.map((l) => l.toFixed(1)).join(' ')} → ${load1.map((l) => l.toFixed(1)).join(' ')}\n`,
  );
  process.stdout.write(
    'layout   PSS/agent (mean, median)   USS/agent        RSS/agent        agents per 24 GiB by PSS\n',
  );
  for (const [layout, { mems, bootS }] of Object.entries(results)) {
    const pss = mean(mems.map((m) => m.pss));
    const row = {
      bench: 'density',
      layout,
      agents: mems.length,
      pssMiBPerAgent: Number((pss / MiB).toFixed(2)),
      pssMedianMiB: Number((median(mems.map((m) => m.pss)) / MiB).toFixed(2)),
      ussMiBPerAgent: Number((mean(mems.map((m) => m.uss)) / MiB).toFixed(2)),
      rssMiBPerAgent: Number((mean(mems.map((m) => m.rss)) / MiB).toFixed(2)),
      agentsPer24GiB: Math.floor(GIB24_KIB / pss),
      hiveRssMiB: Number(hiveRss.toFixed(1)),
      bootSeconds: Number(bootS.toFixed(1)),
    };
    rows.push(row);
    process.stdout.write(
      `${layout.padEnd(8)} ${row.pssMiBPerAgent.toFixed(1).padStart(6)} MiB, ${row.pssMedianMiB.toFixed(1).padStart(6)} MiB   ${row.ussMiBPerAgent.toFixed(1).padStart(6)} MiB       ${row.rssMiBPerAgent.toFixed(1).padStart(6)} MiB       ${row.agentsPer24GiB}${layout !== 'copies' ? (row.agentsPer24GiB >= 1000 ? '  [target ≥ 1,000 met]' : '  [target ≥ 1,000 MISSED]') : ''}\n`,
    );
  }
  process.stdout.write(`hive RSS with ${N} agents registered: ${hiveRss.toFixed(1)} MiB\n`);
  // The shipped layout last, alone on its line, with the others for comparison.
  const shipped = rows.find((r) => r.layout === 'shared') ?? rows.find((r) => r.layout === 'dir');
  const others = Object.fromEntries(rows.filter((r) => r !== shipped).map((r) => [r.layout, r]));
  process.stdout.write(
    `${JSON.stringify({ ...shipped, ...(Object.keys(others).length ? { others } : {}), load: [load0, load1].map((l) => l.map((x) => Number(x.toFixed(2)))) })}\n`,
  );
} finally {
  for (const stop of stoppers) await stop().catch(() => undefined);
  for (const child of dirAgents) child.kill('SIGKILL');
  for (const l of links) l.close();
  await hive.stop();
  // Versions are read-only; jails are stopped above (a crash leaves them to the kernel: their
  // pid namespaces end with this process's children).
  for (const d of fs.existsSync(path.join(work, 'stores')) ? fs.readdirSync(path.join(work, 'stores')) : []) {
    for (const v of fs.readdirSync(path.join(work, 'stores', d)))
      removeVersionDir(path.join(work, 'stores', d, v));
  }
  if (fs.existsSync(path.join(work, 'bodies'))) {
    for (const v of fs.readdirSync(path.join(work, 'bodies')))
      if (/^\d/.test(v)) removeVersionDir(path.join(work, 'bodies', v));
  }
  fs.rmSync(work, { recursive: true, force: true });
}
