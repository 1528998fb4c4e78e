// HTTP status and transport failures map to typed reasons: 429/5xx/network retry, other 4xx don't.
import { describe, expect, it } from 'vitest';
import { failureKind, failureOfStatus, failureOfThrown, HiveError } from './errors.ts';

describe('hive error classification', () => {
  it('retries 408, 429, 5xx and network errors only', () => {
    const kinds = [400, 401, 403, 404, 408, 409, 413, 429, 500, 502, 503].map(
      (s) => `${s}:${failureKind(failureOfStatus(s))}`,
    );
    expect(kinds).toEqual([
      '400:fatal',
      '401:fatal',
      '403:fatal',
      '404:fatal',
      '408:retryable',
      '409:fatal',
      '413:fatal',
      '429:retryable',
      '500:retryable',
      '502:retryable',
      '503:retryable',
    ]);
    expect(failureOfStatus(401)).toBe('unauthorized');
    expect(failureOfStatus(409)).toBe('conflict');
  });

  it('classifies thrown transport errors', () => {
    expect(failureOfThrown(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('network');
    expect(failureOfThrown(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' }))).toBe(
      'timeout',
    );
    expect(failureOfThrown(Object.assign(new Error('x'), { name: 'AbortError' }))).toBe('aborted');
    const e = new HiveError('hive poll answered 503', 'server', { status: 503 });
    expect(e.kind).toBe('retryable');
    expect(failureOfThrown(e)).toBe('server');
  });
});
