// What every agent command (run, status, check, skills) gets from the entry point (src/cli.ts), and
// the one way they read their flags and find their paths: `--root` beats CLAWDIE_ROOT beats `/`,
// CLAWDIE_USER names the jail user (config/paths.ts). A flag error throws parseArgs' TypeError,
// which the entry point turns into exit 2.
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { type AgentPaths, pathsFromEnv } from '../config/paths.ts';
import type { RunnerFactory } from '../machine/deps.ts';

export interface CommandIO {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Builds the task runner (skills) for `run` and `check`. */
  createRunner: RunnerFactory;
  version: string;
}

/** Each command module exports `run` of this shape; it resolves to the exit code. */
export type Command = (argv: string[], io: CommandIO) => Promise<number>;

interface CommandArgs {
  paths: AgentPaths;
  json: boolean;
  check: boolean;
}

/** `--root DIR` for every command, plus the boolean flags this one takes; no positionals. */
export function commandArgs(
  argv: string[],
  env: NodeJS.ProcessEnv,
  ...flags: Array<'json' | 'check'>
): CommandArgs {
  const options: Record<string, { type: 'string' | 'boolean' }> = { root: { type: 'string' } };
  for (const f of flags) options[f] = { type: 'boolean' };
  const values: { root?: string; json?: boolean; check?: boolean } = parseArgs({
    args: argv,
    options,
    strict: true,
    allowPositionals: false,
  }).values;
  return { paths: pathsFromEnv(values.root, env), json: values.json === true, check: values.check === true };
}
