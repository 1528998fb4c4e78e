// clawdie-host entry point: picks the command, runs it, and turns errors into one line and an exit
// code (DESIGN §6). Commands load lazily so `hive serve` does not pay for bw or jail code.
import { describeError } from '../src/errors.ts';
import type { Command, CommandIO } from './command.ts';
import { EXIT, HostError } from './exit-codes.ts';

type Loader = () => Promise<{ run: Command }>;

const COMMANDS: Record<string, { summary: string; load: Loader }> = {
  'register-tenant': {
    summary: 'register-tenant T... [--collection NAME (one T)] [--shared] [--json] [--config F]',
    load: () => import('./commands/register-tenant.ts'),
  },
  provision: {
    summary: 'provision T... [--rotate-token] [--json] [--config F]',
    load: () => import('./commands/provision.ts'),
  },
  revoke: { summary: 'revoke T [--json] [--config F]', load: () => import('./commands/revoke.ts') },
  list: { summary: 'list [--json] [--config F]', load: () => import('./commands/list.ts') },
  status: { summary: 'status T [--json] [--config F]', load: () => import('./commands/status.ts') },
  doctor: { summary: 'doctor [--json] [--config F]', load: () => import('./commands/doctor.ts') },
  'spawn-agent': {
    summary: 'spawn-agent T [--jail] [--collection NAME] [--shared] [--json] [--config F]',
    load: () => import('./commands/spawn-agent.ts'),
  },
  hive: {
    summary: 'hive serve --listen HOST:PORT --db PATH [--admin-token-file F] [--public-url URL]',
    load: () => import('./hive/serve-command.ts'),
  },
  demo: { summary: 'demo [--dir DIR] [--listen HOST:PORT]', load: () => import('./demo/demo-command.ts') },
  mcp: { summary: 'mcp --hive URL --token-file F', load: () => import('./commands/mcp.ts') },
  'mcp-token': {
    summary: 'mcp-token T [--out F] [--json] [--config F]',
    load: () => import('./commands/mcp-token.ts'),
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(
    ([name, c]) => `  clawdie-host ${c.summary.startsWith(name) ? c.summary : `${name} ${c.summary}`}`,
  );
  return `usage:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.stderr.write(`clawdie-host: unknown command "${name.slice(0, 40)}"\n${usage()}`);
    return EXIT.usage;
  }
  try {
    const { run } = await entry.load();
    return await run(rest, io);
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
