// clawdie-agent entry point (DESIGN §3): `run | status | check | skills`. The process IS the agent
// (no wrapper). Commands load lazily so `status` stays cheap and `run` loads only what boot needs.
// Bundle-friendly: every import is a static string esbuild can follow.
import './config/zod-jitless.ts';
import type { Writable } from 'node:stream';
import pkg from '../package.json' with { type: 'json' };
import type { Command } from './commands/command.ts';
import type { RunnerFactory } from './machine/deps.ts';
import { echoRunner } from './skills/task-runner.ts';

const USAGE =
  'usage: clawdie-agent run [--root DIR] | status [--root DIR] [--json] | check [--root DIR] | ' +
  'skills [--root DIR] [--check] [--json]\n';

/**
 * The one plug-in point for skills: builds the TaskRunner the machine executes tasks with — the
 * skills found in the soul layers (src/skills/runner.ts), gated against the current `.env`.
 * `echoRunner` stays available for callers that want only the built-in `echo`.
 */
export const defaultRunnerFactory: RunnerFactory = async ({ paths, log, env, identity }) => {
  const { loadSkillRunner } = await import('./skills/runner.ts');
  return loadSkillRunner({ root: paths.root, stateDir: paths.stateDir, env, log, soul: identity.texts });
};
export { echoRunner };

export interface MainOptions {
  createRunner?: RunnerFactory;
  env?: NodeJS.ProcessEnv;
  stdout?: Writable;
  stderr?: Writable;
}

/** Each command is a module under ./commands exporting `run` (static strings, for the bundler). */
const COMMANDS: Record<string, () => Promise<{ run: Command }>> = {
  run: () => import('./commands/run.ts'),
  status: () => import('./commands/status.ts'),
  check: () => import('./commands/check.ts'),
  skills: () => import('./commands/skills.ts'),
};

const isUsageError = (err: unknown): boolean =>
  err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS');

export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const [name = '', ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    stdout.write(USAGE);
    return 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    stderr.write(USAGE);
    return 2;
  }
  try {
    const command = await load();
    return await command.run(rest, {
      stdout,
      stderr,
      env: options.env ?? process.env,
      createRunner: options.createRunner ?? defaultRunnerFactory,
      version: pkg.version,
    });
  } catch (err) {
    const { describeError } = await import('./errors.ts');
    stderr.write(`clawdie-agent ${name}: ${describeError(err)}\n${isUsageError(err) ? USAGE : ''}`);
    return isUsageError(err) ? 2 : 1;
  }
}

export async function runAsProcess(
  argv: string[] = process.argv.slice(2),
  options: MainOptions = {},
): Promise<void> {
  const code = await main(argv, options);
  // `run` owns the process: exit now rather than wait on idle keep-alive sockets.
  if (argv[0] === 'run') process.exit(code);
  process.exitCode = code;
}

if (import.meta.main) await runAsProcess();
