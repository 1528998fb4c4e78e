// Retry decisions for provider calls (DESIGN §10): which statuses retry, how long to wait, and how
// to read `Retry-After`. Pure functions; the caller sleeps through an injected `sleep`.

export interface BackoffPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  baseMs: number;
  capMs: number;
  /** A server asking to wait longer than this is not waited for (the call fails, retryable). */
  maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  maxAttempts: 4,
  baseMs: 500,
  capMs: 8_000,
  maxRetryAfterMs: 60_000,
};

/** 429 and 5xx retry; other statuses do not (DESIGN §10, as buildkite's api/retryable.go). */
export const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500;

/**
 * Milliseconds to wait before attempt `attempt + 1` (attempt counts from 1), or null to give up.
 * A server's Retry-After wins over our backoff; otherwise exponential with full jitter, capped.
 */
export function nextDelay(
  attempt: number,
  retryAfterMs: number | null,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number | null {
  if (attempt >= policy.maxAttempts) return null;
  if (retryAfterMs !== null) return retryAfterMs > policy.maxRetryAfterMs ? null : retryAfterMs;
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/** `Retry-After` as delta-seconds or an HTTP date → milliseconds from `now`; null when absent or junk. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return null;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}
