// One timer for all of the coordinator's deadlines (lease ends, TTLs, lost agents): armed for the
// earliest known one, it runs the sweep, which returns the next deadline. Sweeps never overlap; a
// sweep asked for while one runs is run right after. Nothing ticks while no deadline is pending.
const MAX_TIMER_MS = 2 ** 31 - 1;

export class DeadlineTimer {
  readonly #sweep: () => Promise<number | null>;
  readonly #onError: (err: unknown) => void;
  #timer: NodeJS.Timeout | null = null;
  #at: number | null = null;
  #running = false;
  #again = false;
  #stopped = false;

  /** `sweep` ends what is due and returns the next deadline (epoch ms) or null. */
  constructor(sweep: () => Promise<number | null>, onError: (err: unknown) => void) {
    this.#sweep = sweep;
    this.#onError = onError;
  }

  /** Makes sure a sweep runs no later than `at`. */
  arm(at: number): void {
    if (this.#stopped || (this.#at !== null && this.#at <= at)) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#at = at;
    // +1 ms: Date.now() must have reached the deadline when the sweep compares against it.
    const delay = Math.min(Math.max(at - Date.now() + 1, 0), MAX_TIMER_MS);
    this.#timer = setTimeout(() => {
      // Spent: forget it before firing, or a fire() that lands during a running sweep (deferred
      // as `again`) would leave #at set with no timer behind it and every later arm() skipped.
      this.#timer = null;
      this.#at = null;
      void this.fire();
    }, delay);
  }

  /** Runs a sweep now (or right after the running one) and arms the timer for the next deadline. */
  async fire(): Promise<void> {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#at = null;
    let next: number | null;
    try {
      next = await this.#sweep();
    } catch (err) {
      this.#onError(err);
      next = Date.now() + 1000;
    }
    this.#running = false;
    if (this.#again) {
      this.#again = false;
      next = Date.now();
    }
    if (next !== null) this.arm(next);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
