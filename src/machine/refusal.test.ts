// What a failed registration means (registerOutcome): every hive answer the agent can meet, built
// as the client builds them (answeredError), mapped to retry, wait for a changed .env, or fail.
import { describe, expect, it } from 'vitest';
import { answeredError, HiveError } from '../hive/errors.ts';
import { registerOutcome } from './refusal.ts';

const hive = (status: number, code: string, field?: string): HiveError =>
  answeredError('hive register', status, JSON.stringify({ error: { code, message: 'm', field } }));
const proxy = (status: number): HiveError => answeredError('hive register', status, '<html>error</html>');

describe('registerOutcome', () => {
  it.each([
    // Answers about the .env's credentials or where its URL leads: wait for a changed file.
    ['401', hive(401, 'unauthorized'), 'awaitEnv'],
    ['401 from a proxy', proxy(401), 'awaitEnv'],
    ['403 tenant does not match the token', hive(403, 'forbidden', 'tenant'), 'awaitEnv'],
    ['403 agent id of another tenant', hive(403, 'forbidden', 'agentId'), 'awaitEnv'],
    ['403 from a proxy', proxy(403), 'awaitEnv'],
    ['404 no such route (URL path)', hive(404, 'not_found'), 'awaitEnv'],
    ['400 naming the tenant', hive(400, 'bad_request', 'tenant'), 'awaitEnv'],
    ['400 naming no field', hive(400, 'bad_request'), 'awaitEnv'],
    ['431 (a token too large)', hive(431, 'headers_too_large'), 'awaitEnv'],
    ['no credentials', new HiveError('no hive token configured', 'no-credentials'), 'awaitEnv'],
    // Passing trouble, or not the hive's word: back off and register again.
    ['503', hive(503, 'unavailable'), 'retry'],
    ['429', proxy(429), 'retry'],
    ['408', hive(408, 'request_timeout'), 'retry'],
    ['409', hive(409, 'conflict'), 'retry'],
    ['404 from a proxy', proxy(404), 'retry'],
    ['405 from another server', proxy(405), 'retry'],
    ['network', new HiveError('hive register failed: ECONNREFUSED', 'network'), 'retry'],
    ['stale token', new HiveError('replaced', 'stale-token', { status: 401 }), 'retry'],
    // The hive refuses what the agent built: no .env mends it.
    ['400 naming the capabilities', hive(400, 'bad_request', 'capabilities.3'), 'fail'],
    ['400 naming the identity hash', hive(400, 'bad_request', 'identityHash'), 'fail'],
    ['400 naming the version', hive(400, 'bad_request', 'version'), 'fail'],
    ['400 naming the body', hive(400, 'bad_request', 'body'), 'fail'],
    ['426 upgrade required', proxy(426), 'fail'],
    ['not a hive error', new TypeError('runner.capabilities is not a function'), 'fail'],
  ])('%s → %s', (_name, err, outcome) => {
    expect(registerOutcome(err)).toBe(outcome);
  });
});
