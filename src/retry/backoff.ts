// Retry delays as one pure function for every caller (DESIGN §10): the agent machine, task
// execution, provider calls, borrowed-task polling and the PostgreSQL listener all count `retry`
// from 0 (the wait after the first failure) and use this. Exponential growth from `baseMs`, capped
// at `capMs`; full jitter by default (a uniform pick in [0, ceiling]) so a fleet does not reconnect
// in lockstep, or no jitter for a poll cadence; an optional budget after which it answers null
// (give up). Callers reset `retry` on success.
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** Retries allowed before giving up (the first call is not one); omit to retry forever. */
  maxRetries?: number;
  /** 'full' (default): uniform in [0, ceiling]; 'none': the ceiling itself (a polling cadence). */
  jitter?: 'full' | 'none';
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 15_000 };

/** Delay before retry number `retry` (0-based), or null when the budget is spent. */
export function nextDelay(
  retry: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number | null {
  if (!Number.isFinite(retry) || retry < 0) return null;
  if (policy.maxRetries !== undefined && retry >= policy.maxRetries) return null;
  // 2 ** retry overflows to Infinity for large values; min() keeps the ceiling at the cap.
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(retry, 64));
  if (policy.jitter === 'none') return ceiling;
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceiling);
}
