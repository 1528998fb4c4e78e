// The contract between the clawdie-host dispatcher (cli.ts) and each command module.
import type { Writable } from 'node:stream';

export interface CommandIO {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM so long-running commands (hive serve, demo) stop cleanly. */
  signal: AbortSignal;
}

/** A command parses its own flags and returns its exit code; it throws HostError for failures. */
export type Command = (argv: string[], io: CommandIO) => Promise<number>;
