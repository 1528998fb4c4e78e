// Runs the reference hive coordinator (`clawdie-host hive serve`) as a child process for the demo:
// SQLite under <dir>/hive, the admin token read by the child from its 0600 file (never by env or
// argv), stdout's first line is the URL, everything else goes to <dir>/hive/hive.log.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { open as openFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { EXIT, HostError } from '../exit-codes.ts';
import { terminate } from './terminate.ts';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));

export interface DemoHive {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code once the child is gone. */
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export async function launchHive(options: {
  dir: string;
  listen: string;
  tokenFile: string;
  env: NodeJS.ProcessEnv;
  /** Shown in the error when it does not start. */
  shownDir: string;
  extraArgs?: string[];
}): Promise<DemoHive> {
  const logFile = await openFile(join(options.dir, 'hive', 'hive.log'), 'a', 0o600);
  const child = spawn(
    process.execPath,
    [
      CLI,
      'hive',
      'serve',
      '--listen',
      options.listen,
      '--db',
      join(options.dir, 'hive', 'hive.db'),
      '--admin-token-file',
      options.tokenFile,
      ...(options.extraArgs ?? []),
    ],
    // The child gets no secret by env: it reads the token file itself.
    {
      stdio: ['ignore', 'pipe', logFile.fd],
      env: { PATH: options.env.PATH ?? '', CLAWDIE_LOG_LEVEL: options.env.CLAWDIE_LOG_LEVEL ?? 'info' },
    },
  );
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  void exited.finally(() => logFile.close().catch(() => undefined));
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([once(lines, 'line').then(([l]) => String(l)), exited.then(() => null)]);
  if (first === null || !/^http:\/\/\S+$/.test(first)) {
    child.kill('SIGKILL');
    throw new HostError(
      `the hive did not start; see ${join(options.shownDir, 'hive', 'hive.log')}`,
      EXIT.failure,
    );
  }
  lines.on('line', (l) => void logFile.write(`${l}\n`).catch(() => undefined));
  return {
    url: first,
    child,
    exited,
    stop(graceMs = 10_000) {
      return terminate(child, exited, graceMs);
    },
  };
}
