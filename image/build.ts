// `npm run build`: the single-file bundles `dist/clawdie-agent.mjs` and `dist/clawdie-host.mjs`,
// `dist/body/` (the body without its runtime: agent bundle, boot.sh, rc.d script, image soul and
// skills; `clawdie-host body install` makes a version of it) and `dist/image-overlay/` (the
// Bastille template). Prints each bundle's size (raw and gzip) and what weighs most in it. Writes
// only those four entries under the output directory; anything else there is left alone.
//   node image/build.ts [--outdir DIR] [--no-minify]
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { BUNDLES, type BundleResult, buildBundle } from './bundle.ts';
import { assembleOverlay, BODY_SOURCE_DIR, OVERLAY_DIR } from './overlay.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function kib(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(2)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}

async function describe(r: BundleResult): Promise<string> {
  const gz = gzipSync(await readFile(r.file)).length;
  const top = r.top.map((t) => `${t.name} ${kib(t.bytes)}`).join(', ');
  return `${path.relative(process.cwd(), r.file)}  ${kib(r.bytes)} (gzip ${kib(gz)})  largest: ${top}`;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { outdir: { type: 'string' }, 'no-minify': { type: 'boolean' } },
    strict: true,
  });
  const outDir = path.resolve(values.outdir ?? path.join(repoRoot, 'dist'));
  const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const minify = !values['no-minify'];

  await mkdir(outDir, { recursive: true });
  await Promise.all(
    [...BUNDLES.map((b) => `${b.name}.mjs`), OVERLAY_DIR, BODY_SOURCE_DIR].map((f) =>
      rm(path.join(outDir, f), { recursive: true, force: true }),
    ),
  );
  const results: BundleResult[] = [];
  for (const spec of BUNDLES) {
    const r = await buildBundle(spec, { repoRoot, outDir, version: pkg.version, minify });
    await chmod(r.file, 0o755);
    results.push(r);
  }
  const agent = results[0];
  if (!agent) throw new Error('no agent bundle was built');
  const overlay = await assembleOverlay({ repoRoot, outDir, agentBundle: agent.file });

  process.stdout.write(
    `clawdie ${pkg.version}, ${minify ? 'minified (whitespace, syntax)' : 'not minified'}\n`,
  );
  for (const r of results) process.stdout.write(`${await describe(r)}\n`);
  process.stdout.write(
    `${path.relative(process.cwd(), overlay.bodyDir)}/  body: agent bundle, boot.sh, rc.d script, ` +
      `${overlay.soulFiles} soul file(s), ${overlay.skillFiles} skill file(s) ` +
      '(clawdie-host body install adds node)\n' +
      `${path.relative(process.cwd(), overlay.dir)}/  Bastille template\n`,
  );
  for (const { skill, packages } of overlay.skipped) {
    process.stdout.write(
      `  not in the jail image: skill ${skill} (its scripts import ${packages.join(', ')})\n`,
    );
  }
  return 0;
}

if (import.meta.main) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`build: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
