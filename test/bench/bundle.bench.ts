// Bundle benchmark (issue 8): cold start of `clawdie-agent --help` and `clawdie-host --help` as new
// processes, from the sources (type stripping, one module per file), from the bundle not minified
// and minified (whitespace + syntax, what `npm run build` ships), beside a baseline from the same
// run: `node -e 0`, a bare node start. Runs are interleaved so load drifts hit every variant alike;
// medians and p90 are reported with their ratio to the baseline, and the bundle sizes. Bounded in
// runs and wall time; it enforces nothing.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLES, buildBundle } from '../../image/bundle.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const CAP_SECONDS = 90;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const node = process.execPath;

function timeRun(args: string[]): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    execFile(node, args, { cwd: repo, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }, (err) => {
      if (err) reject(err);
      else resolve(performance.now() - start);
    });
  });
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};

const out = await mkdtemp(path.join(tmpdir(), 'clawdie-bundle-bench-'));
try {
  const version = '0.0.0-bench';
  const variants: { label: string; args: string[] }[] = [{ label: 'baseline: node -e 0', args: ['-e', '0'] }];
  const sizes: string[] = [];
  for (const spec of BUNDLES) {
    variants.push({ label: `${spec.name} from sources`, args: [path.join(repo, spec.entry), '--help'] });
    for (const minify of [false, true]) {
      const dir = path.join(out, minify ? 'min' : 'plain');
      const r = await buildBundle(spec, { repoRoot: repo, outDir: dir, version, minify });
      const label = `${spec.name} bundle${minify ? ', minified' : ''}`;
      variants.push({ label, args: [r.file, '--help'] });
      sizes.push(`${label}: ${((await stat(r.file)).size / 1024 / 1024).toFixed(2)} MiB`);
    }
  }
  const times = new Map<string, number[]>(variants.map((v) => [v.label, []]));
  const deadline = Date.now() + CAP_SECONDS * 1000;
  let runs = 0;
  for (; runs < RUNS && Date.now() < deadline; runs++) {
    for (const v of variants) times.get(v.label)?.push(await timeRun(v.args));
  }
  const base = quantile(times.get(variants[0]?.label ?? '') ?? [], 0.5);
  process.stdout.write(`cold start, ${runs} runs each (interleaved), node ${process.version}\n`);
  for (const v of variants) {
    const t = times.get(v.label) ?? [];
    const p50 = quantile(t, 0.5);
    process.stdout.write(
      `  ${v.label.padEnd(38)} p50 ${p50.toFixed(0).padStart(5)} ms  p90 ${quantile(t, 0.9).toFixed(0).padStart(5)} ms` +
        `  ×${(p50 / base).toFixed(2)} baseline\n`,
    );
  }
  for (const s of sizes) process.stdout.write(`  size ${s}\n`);
} finally {
  await rm(out, { recursive: true, force: true });
}
