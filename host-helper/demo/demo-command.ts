// `clawdie-host demo` (npm start): by default the whole chain on this machine (chain.ts) — hive,
// vault, provisioning, two agents, routed tasks — then exit 0; `--serve` runs only the reference
// hive coordinator and serves until Ctrl-C (serve.ts). Both keep their state in a private directory
// (default .demo/) with the hive admin token in a 0600 file, generated on first use and reused.
import { randomBytes } from 'node:crypto';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';
import { usageError } from '../exit-codes.ts';
import { runChain } from './chain.ts';
import { serveHive } from './serve.ts';
import { ensureAdminToken, ensurePrivateDir, writeHeaderFile } from './state.ts';

const USAGE = 'usage: clawdie-host demo [--dir DIR] [--listen HOST:PORT] [--serve]';

export const run: Command = async (argv, io) => {
  let values: { dir?: string | undefined; listen?: string | undefined; serve?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { dir: { type: 'string' }, listen: { type: 'string' }, serve: { type: 'boolean' } },
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
  const state = { dir, shown, tokenFile, listen: values.listen ?? '127.0.0.1:0' };
  return values.serve ? serveHive(io, state) : runChain(io, state);
};
