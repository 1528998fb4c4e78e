// clawdie-host entry point: picks the command, runs it, and turns errors into one line and an exit
// code (DESIGN §6). The global flags (--config, --json) may stand before the command name too
// (global-flags.ts). Commands load lazily so `hive serve` does not pay for bw or jail code.
import { describeError } from '../src/errors.ts';
import type { Command, CommandIO } from './command.ts';
import { EXIT, HostError } from './exit-codes.ts';
import { type CommandLine, splitCommandLine } from './global-flags.ts';

type Loader = () => Promise<{ run: Command }>;

/** `globals: false`: the command has flags of its own and takes neither --config nor --json. */
const COMMANDS: Record<string, { summary: string; load: Loader; globals?: false }> = {
  'register-tenant': {
    summary: 'register-tenant T... [--collection NAME (one T)] [--shared]',
    load: () => import('./commands/register-tenant.ts'),
  },
  provision: {
    summary: 'provision T... [--rotate-token]',
    load: () => import('./commands/provision.ts'),
  },
  revoke: { summary: 'revoke T', load: () => import('./commands/revoke.ts') },
  list: { summary: 'list', load: () => import('./commands/list.ts') },
  status: { summary: 'status T', load: () => import('./commands/status.ts') },
  doctor: { summary: 'doctor', load: () => import('./commands/doctor.ts') },
  'spawn-agent': {
    summary: 'spawn-agent T [--jail] [--collection NAME] [--shared]',
    load: () => import('./commands/spawn-agent.ts'),
  },
  ui: { summary: 'ui', load: () => import('./commands/ui.ts') },
  body: {
    summary: 'body install [--from DIR] | list | switch VERSION (T...|--all) | rollback (T...|--all) | prune',
    load: () => import('./commands/body.ts'),
  },
  hive: {
    summary: 'hive serve --listen HOST:PORT --db PATH [--admin-token-file F] [--public-url URL]',
    load: () => import('./hive/serve-command.ts'),
    globals: false,
  },
  demo: {
    summary: 'demo [--dir DIR] [--listen HOST:PORT]',
    load: () => import('./demo/demo-command.ts'),
    globals: false,
  },
  mcp: {
    summary: 'mcp --hive URL --token-file F',
    load: () => import('./commands/mcp.ts'),
    globals: false,
  },
  'mcp-token': { summary: 'mcp-token T [--out F]', load: () => import('./commands/mcp-token.ts') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => {
    const line = c.summary.startsWith(name) ? c.summary : `${name} ${c.summary}`;
    return `  clawdie-host ${c.globals === false ? line : `[--config F] [--json] ${line}`}`;
  });
  return `usage (--config F and --json may also follow the command):\n${lines.join('\n')}\n`;
}

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const first = argv[0];
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    (first === undefined ? io.stderr : io.stdout).write(usage());
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  let line: CommandLine;
  try {
    line = splitCommandLine(argv);
  } catch (err) {
    io.stderr.write(`clawdie-host: ${(err as Error).message}\n${usage()}`);
    return EXIT.usage;
  }
  const { name, args } = line;
  const entry = name === undefined ? undefined : COMMANDS[name];
  if (name === undefined || !entry) {
    const what = name === undefined ? 'missing command' : `unknown command "${name.slice(0, 40)}"`;
    io.stderr.write(`clawdie-host: ${what}\n${usage()}`);
    return EXIT.usage;
  }
  if (entry.globals === false && line.leadingFlags) {
    io.stderr.write(`clawdie-host ${name}: takes neither --config nor --json\n`);
    return EXIT.usage;
  }
  try {
    const { run } = await entry.load();
    return await run(args, io);
  } catch (err) {
    if (err instanceof HostError) {
      io.stderr.write(`clawdie-host ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr.write(`clawdie-host ${name}: ${describeError(err)}\n`);
    return EXIT.failure;
  }
}

/** Runs as the process: wires signals to an AbortSignal (a second signal forces exit). */
export async function runAsProcess(argv: string[] = process.argv.slice(2)): Promise<void> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    signals += 1;
    if (signals > 1) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.exitCode = await main(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: controller.signal,
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

if (import.meta.main) await runAsProcess();
