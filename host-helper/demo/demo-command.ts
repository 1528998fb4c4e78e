// `clawdie-host demo` (npm start): runs the reference hive coordinator from a local state dir
// (default .demo/), with a generated admin token kept in a 0600 file, prints the URL and how to use
// it, and stops cleanly on Ctrl-C (exit 0). Later issues grow this into the end-to-end demo.
// Output: the instructions on stdout; the coordinator's own logs go to <dir>/hive/hive.log.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { open as openFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { EXIT, HostError, usageError } from '../exit-codes.ts';
import { ensureAdminToken, ensurePrivateDir, writeHeaderFile } from './state.ts';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
const USAGE = 'usage: clawdie-host demo [--dir DIR] [--listen HOST:PORT]';

function instructions(url: string, dir: string): string {
  const tok = join(dir, 'hive', 'admin.token');
  const hdr = join(dir, 'hive', 'admin.header');
  const db = join(dir, 'hive', 'hive.db');
  return `clawdie demo: the reference hive coordinator is running

  URL          ${url}
  admin token  ${tok}  (mode 0600; never put it on a command line)
  database     ${db}
  logs         ${join(dir, 'hive', 'hive.log')}

Try it from another terminal (curl reads the Authorization header from a 0600 file, so the
token never appears in a process list):
  curl -s -H @${hdr} ${url}/v1/admin/agents
  curl -s -X POST -H @${hdr} -d '{}' ${url}/v1/admin/tenants/acme/token          # acme's agent token
  curl -s -X POST -H @${hdr} -d '{"shared":true}' ${url}/v1/admin/tenants/lane/token   # a shared lane
  curl -s -X POST -H @${hdr} -d '{"tenant":"acme","capability":"echo","input":"hi"}' ${url}/v1/tasks

The same coordinator, run by hand:
  npx clawdie-host hive serve --listen 127.0.0.1:0 --db ${db} --admin-token-file ${tok}
Protocol conformance of this (or any) coordinator:
  npm run conformance -- --url ${url} --admin-token-file ${tok}

Press Ctrl-C to stop.
`;
}

export const run: Command = async (argv, io) => {
  let values: { dir?: string | undefined; listen?: string | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { dir: { type: 'string' }, listen: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw usageError(`unknown option or missing value; ${USAGE}`, err);
  }
  const dir = resolve(values.dir ?? '.demo');
  const rel = relative(process.cwd(), dir);
  const shown = rel === '' ? '.' : rel.startsWith('..') ? dir : rel;
  await ensurePrivateDir(dir);
  await ensurePrivateDir(join(dir, 'hive'));
  const tokenFile = await ensureAdminToken(join(dir, 'hive', 'admin.token'), () =>
    randomBytes(32).toString('base64url'),
  );
  await writeHeaderFile(join(dir, 'hive', 'admin.header'), tokenFile);
  const logFile = await openFile(join(dir, 'hive', 'hive.log'), 'a', 0o600);

  const child = spawn(
    process.execPath,
    [
      CLI,
      'hive',
      'serve',
      '--listen',
      values.listen ?? '127.0.0.1:0',
      '--db',
      join(dir, 'hive', 'hive.db'),
      '--admin-token-file',
      tokenFile,
    ],
    // The child gets no secret by env: it reads the token file itself.
    {
      stdio: ['ignore', 'pipe', logFile.fd],
      env: { PATH: io.env.PATH ?? '', CLAWDIE_LOG_LEVEL: io.env.CLAWDIE_LOG_LEVEL ?? 'info' },
    },
  );
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([once(lines, 'line').then(([l]) => String(l)), exited.then(() => null)]);
  if (first === null || !/^http:\/\/\S+$/.test(first)) {
    await logFile.close();
    throw new HostError(`the hive did not start; see ${join(shown, 'hive', 'hive.log')}`, EXIT.failure);
  }
  lines.on('line', (l) => void logFile.write(`${l}\n`));
  io.stdout.write(instructions(first, shown));

  const stopped = await Promise.race([once(io.signal, 'abort').then(() => false), exited.then(() => true)]);
  if (!stopped) child.kill('SIGTERM');
  const [code] = await exited;
  await logFile.close();
  if (stopped) throw new HostError(`the hive stopped unexpectedly (exit ${String(code)})`, EXIT.failure);
  io.stdout.write('clawdie demo: stopped\n');
  return EXIT.ok;
};
