// Step-by-step progress for the demo: each step prints its name when it starts and completes the
// line with its result and duration when it ends, so a slow step (bw) shows as it happens. A step
// races the abort signal (Ctrl-C): the caller stops at once and cleans up. Times are wall clock
// since the demo started. Output: lines on the given stream; nothing secret is ever passed in.
import type { Writable } from 'node:stream';

export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/** Pure: one progress line's head, e.g. "[  1.2s] provision ......... ". */
export function stepHead(elapsedMs: number, name: string, width = 27): string {
  const t = seconds(elapsedMs).padStart(6);
  return `[${t}] ${`${name} `.padEnd(width, '.')} `;
}

export class Progress {
  readonly #out: Writable;
  readonly #signal: AbortSignal;
  readonly #t0: number;
  /** The step in flight (settled or not) when an abort came, so the caller can wait for it. */
  inFlight: Promise<unknown> | undefined;

  constructor(out: Writable, signal: AbortSignal, t0 = performance.now()) {
    this.#out = out;
    this.#signal = signal;
    this.#t0 = t0;
  }

  elapsed(): number {
    return performance.now() - this.#t0;
  }

  line(text: string): void {
    this.#out.write(`${text}\n`);
  }

  /** Runs one step; `fn` returns the result text. Throws Interrupted on Ctrl-C. */
  async step<T>(name: string, fn: () => Promise<T>, describe: (value: T) => string): Promise<T> {
    if (this.#signal.aborted) throw new Interrupted();
    this.#out.write(stepHead(this.elapsed(), name));
    const start = performance.now();
    const work = fn();
    this.inFlight = work.catch(() => undefined);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new Interrupted());
      this.#signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const value = await Promise.race([work, aborted]);
      this.#out.write(`${describe(value)} (${seconds(performance.now() - start)})\n`);
      return value;
    } catch (err) {
      this.#out.write(err instanceof Interrupted ? 'interrupted\n' : 'FAILED\n');
      throw err;
    } finally {
      if (onAbort) this.#signal.removeEventListener('abort', onAbort);
    }
  }
}
