// clawdie-agent entry point (DESIGN §3): `run | status | check | skills`. The process IS the agent
// (no wrapper). Commands load lazily so `status` stays cheap and `run` loads only what boot needs.
// Bundle-friendly: every import is a static string esbuild can follow.
import './config/zod-jitless.ts';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import pkg from '../package.json' with { type: 'json' };
import type { RunnerFactory } from './machine/deps.ts';
import { echoRunner } from './skills/task-runner.ts';

const USAGE =
  'usage: clawdie-agent run [--root DIR] | status [--root DIR] [--json] | check [--root DIR] | skills [--check] [--json]\n';

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

function flags(args: string[], extra: Record<string, { type: 'boolean' | 'string' }> = {}) {
  return parseArgs({
    args,
    options: { root: { type: 'string' }, ...extra },
    allowPositionals: false,
    strict: true,
  }).values as { root?: string; json?: boolean; check?: boolean };
}

export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const createRunner = options.createRunner ?? defaultRunnerFactory;
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    stdout.write(USAGE);
    return 0;
  }
  try {
    switch (name) {
      case 'run': {
        const f = flags(rest);
        const [{ pathsFromEnv }, { createLogger }, { runAgent }] = await Promise.all([
          import('./config/paths.ts'),
          import('./log.ts'),
          import('./machine/run.ts'),
        ]);
        const paths = pathsFromEnv(f.root, env);
        const log = createLogger({ name: 'clawdie-agent' });
        return await runAgent({ paths, log, version: pkg.version, createRunner, env, stderr });
      }
      case 'status': {
        const f = flags(rest, { json: { type: 'boolean' } });
        const [{ pathsFromEnv }, { statusCommand }] = await Promise.all([
          import('./config/paths.ts'),
          import('./commands/status.ts'),
        ]);
        return statusCommand(pathsFromEnv(f.root, env), { json: f.json === true }, stdout, stderr);
      }
      case 'check': {
        const f = flags(rest);
        const [{ pathsFromEnv }, { createLogger }, { checkCommand }] = await Promise.all([
          import('./config/paths.ts'),
          import('./log.ts'),
          import('./commands/check.ts'),
        ]);
        const log = createLogger({ name: 'clawdie-agent', level: 'warn' });
        return await checkCommand(pathsFromEnv(f.root, env), { createRunner, log }, stdout);
      }
      case 'skills': {
        // SKILLS-DISPATCH: owned by the skills code (src/commands/skills.ts), loaded only for this command.
        const { skillsCommand } = await import('./commands/skills.ts');
        return await skillsCommand(rest, { stdout, stderr, env });
      }
      default:
        stderr.write(USAGE);
        return 2;
    }
  } catch (err) {
    const { describeError } = await import('./errors.ts');
    stderr.write(`clawdie-agent ${name}: ${describeError(err)}\n`);
    return err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS') ? 2 : 1;
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
