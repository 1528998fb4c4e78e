// `npm run conformance -- --url URL --admin-token-file F [--ca-file F]`: runs the protocol
// conformance suites (vitest, test/conformance/) against any running hive coordinator (https:// with
// --ca-file when its certificate chains to a private CA). The admin token is read from a file that
// group/others cannot read and handed to vitest by file path, never by argv or value.
// Exit code: vitest's (0 when every test passed), 2 for usage errors.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { formatProblem } from '../../src/protocol/index.ts';

const USAGE = 'usage: npm run conformance -- --url URL --admin-token-file F [--ca-file F]';
const Flags = z.object({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  'admin-token-file': z.string({ error: 'is required' }).min(1),
  'ca-file': z.string().min(1).optional(),
});

function fail(message: string): never {
  process.stderr.write(`conformance: ${message}; ${USAGE}\n`);
  process.exit(2);
}

function parseFlags(): Record<string, unknown> {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options: {
        url: { type: 'string' },
        'admin-token-file': { type: 'string' },
        'ca-file': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch {
    return fail('unknown option or missing value');
  }
}

const flags = Flags.safeParse(parseFlags());
if (!flags.success) fail(`--${formatProblem(flags.error, 'flags')}`);
const tokenFile = resolve(flags.data['admin-token-file']);
try {
  const st = statSync(tokenFile);
  if (!st.isFile()) fail('--admin-token-file: not a regular file');
  if ((st.mode & 0o077) !== 0) fail('--admin-token-file: readable by group/others; chmod 600 it');
} catch (err) {
  fail(`--admin-token-file: cannot read (${(err as { code?: string }).code ?? 'error'})`);
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const vitest = join(root, 'node_modules/vitest/vitest.mjs');
const child = spawn(
  process.execPath,
  [vitest, 'run', '--config', join(root, 'test/conformance/vitest.config.ts')],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      CLAWDIE_CONFORMANCE_URL: flags.data.url,
      CLAWDIE_CONFORMANCE_ADMIN_TOKEN_FILE: tokenFile,
      ...(flags.data['ca-file'] ? { CLAWDIE_CONFORMANCE_CA_FILE: resolve(flags.data['ca-file']) } : {}),
    },
  },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
