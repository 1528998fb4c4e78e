// Retry of provider calls (DESIGN §10): which statuses retry, how long to wait, how to read
// `Retry-After` (pure functions), and the loop that applies them through an injected `sleep`.
import { type BackoffPolicy, nextDelay } from '../retry/backoff.ts';
import type { ProviderError } from './errors.ts';

export interface ProviderRetryPolicy extends BackoffPolicy {
  /** Retries after the first call (so 3 means at most 4 calls). */
  maxRetries: number;
  /** A server asking to wait longer than this is not waited for (the call fails, retryable). */
  maxRetryAfterMs: number;
}

export const PROVIDER_RETRY: ProviderRetryPolicy = {
  maxRetries: 3,
  baseMs: 500,
  capMs: 8_000,
  maxRetryAfterMs: 60_000,
};

/** 429 and 5xx retry; other statuses do not (DESIGN §10, as buildkite's api/retryable.go). */
export const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500;

/**
 * Milliseconds to wait before retry number `retry` (0-based, as every backoff here counts), or null
 * to give up. A server's Retry-After wins over the shared backoff (src/retry/backoff.ts).
 */
export function providerRetryDelay(
  retry: number,
  retryAfterMs: number | null,
  policy: ProviderRetryPolicy = PROVIDER_RETRY,
  random: () => number = Math.random,
): number | null {
  if (retry >= policy.maxRetries) return null;
  if (retryAfterMs !== null) return retryAfterMs > policy.maxRetryAfterMs ? null : retryAfterMs;
  return nextDelay(retry, policy, random);
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

export interface RetryLoop {
  policy: ProviderRetryPolicy;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  signal?: AbortSignal;
}

/**
 * Runs `attempt` (numbered from 1) until it succeeds or a failure is final: `failure` maps what was
 * thrown to a typed error and says whether this attempt may be repeated (nothing already streamed).
 */
export async function withRetries<T>(
  loop: RetryLoop,
  attempt: (attemptNo: number) => Promise<T>,
  failure: (thrown: unknown) => { error: ProviderError; repeatable: boolean },
): Promise<T> {
  for (let attemptNo = 1; ; attemptNo++) {
    try {
      return await attempt(attemptNo);
    } catch (thrown) {
      const { error, repeatable } = failure(thrown);
      const retryable = repeatable && error.kind === 'retryable' && !loop.signal?.aborted;
      const wait = retryable
        ? providerRetryDelay(attemptNo - 1, error.retryAfterMs, loop.policy, loop.random)
        : null;
      if (wait === null) throw error;
      await loop.sleep(wait, loop.signal);
    }
  }
}
