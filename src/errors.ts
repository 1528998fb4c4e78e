// The base of every typed error in both programs: a message safe to print (never a secret),
// a cause for the log, and whether retrying can help (DESIGN §10: retryable vs fatal).
export type ErrorKind = 'retryable' | 'fatal';

export class ClawdieError extends Error {
  readonly kind: ErrorKind;

  constructor(message: string, options: { cause?: unknown; kind?: ErrorKind } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = options.kind ?? 'fatal';
  }
}

/** A one-line description of any thrown value, for messages that must stay on one line. */
export function describeError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, ' ').trim();
}
