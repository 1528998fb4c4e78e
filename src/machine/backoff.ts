// Retry delays as a pure function (DESIGN §10): exponential growth from `baseMs`, capped at `capMs`,
// full jitter (a uniform pick in [0, ceiling]) so a fleet does not reconnect in lockstep, and an
// optional attempt budget after which it answers null (give up). Callers reset `attempt` on success.
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** Attempts allowed before giving up; omit to retry forever. */
  maxAttempts?: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 15_000 };

/** Delay before retry number `attempt` (0-based), or null when the budget is spent. */
export function nextDelay(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number | null {
  if (!Number.isFinite(attempt) || attempt < 0) return null;
  if (policy.maxAttempts !== undefined && attempt >= policy.maxAttempts) return null;
  // 2 ** attempt overflows to Infinity for large attempts; min() keeps the ceiling at the cap.
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 64));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceiling);
}
