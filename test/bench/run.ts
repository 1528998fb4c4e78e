// `npm run bench`: runs every test/bench/*.bench.ts as its own process, one after another (so they
// never compete for the CPU), prints each one's output, and exits non-zero if any failed.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const failed: string[] = [];
for (const file of files) {
  process.stdout.write(`\n=== ${file} ===\n`);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [join(here, file)], { stdio: 'inherit' });
    child.once('exit', (c, signal) => resolve(signal ? 1 : c));
  });
  if (code !== 0) failed.push(`${file} (exit ${String(code)})`);
}
process.stdout.write(`\n${files.length - failed.length}/${files.length} benchmarks passed\n`);
if (failed.length > 0) {
  process.stderr.write(`failed: ${failed.join(', ')}\n`);
  process.exit(1);
}
