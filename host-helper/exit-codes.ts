// Exit codes of clawdie-host (DESIGN §6), and the error that carries one to the CLI shell.
import { ClawdieError, type ErrorKind } from '../src/errors.ts';

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  policy: 4,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error whose message is one safe line and whose exit code the CLI uses as is. */
export class HostError extends ClawdieError {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode, options: { cause?: unknown; kind?: ErrorKind } = {}) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

export const usageError = (message: string, cause?: unknown): HostError =>
  new HostError(message, EXIT.usage, { cause });
