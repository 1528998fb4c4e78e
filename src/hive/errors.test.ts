// HTTP status and transport failures map to typed reasons: 429/5xx/network retry, other 4xx don't.
import { describe, expect, it } from 'vitest';
import { answeredError, failureKind, failureOfStatus, failureOfThrown, HiveError } from './errors.ts';

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

  it("keeps the hive's own code and field from an error answer, never its free text", () => {
    const hive = (error: object) => JSON.stringify({ error });
    const tenant = answeredError(
      'hive register',
      403,
      hive({ code: 'forbidden', message: 'tenant acme-secret does not match', field: 'tenant' }),
    );
    expect(tenant).toMatchObject({
      reason: 'forbidden',
      status: 403,
      answer: { code: 'forbidden', field: 'tenant' },
    });
    expect(tenant.message).toBe('hive register answered 403 (forbidden, field tenant)');
    const route = answeredError('hive register', 404, hive({ code: 'not_found', message: 'no such route' }));
    expect(route.answer).toEqual({ code: 'not_found' });
    expect(route.message).toBe('hive register answered 404 (not_found)');
    // Not the hive's shape (a proxy's page, a code the protocol does not have): no answer.
    expect(answeredError('hive register', 404, '<html>404 Not Found</html>').answer).toBeUndefined();
    const other = answeredError('hive poll', 400, hive({ code: 'E_WAF', message: 'blocked' }));
    expect(other.answer).toBeUndefined();
    expect(other.message).toBe('hive poll answered 400 (E_WAF)');
    // A field that is not a key path is not repeated.
    const odd = answeredError(
      'hive register',
      400,
      hive({ code: 'bad_request', message: 'x', field: 'a b\nc' }),
    );
    expect(odd.answer).toEqual({ code: 'bad_request' });
  });
});
