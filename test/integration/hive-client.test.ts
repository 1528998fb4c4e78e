// The hive client against a fake hive on loopback: empty long-polls, typed failures, rotation of the
// token between requests, and abort.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HiveClient } from '../../src/hive/client.ts';
import { HiveError } from '../../src/hive/errors.ts';
import { type FakeHive, startFakeHive } from '../fixtures/fake-hive/server.ts';

let hive: FakeHive;
let client: HiveClient;
let token = 'tok-a';

beforeEach(async () => {
  hive = await startFakeHive({ tokens: ['tok-a', 'tok-b'] });
  token = 'tok-a';
  client = new HiveClient({ baseUrl: () => hive.url, token: () => token, timeoutMs: 2_000 });
});
afterEach(async () => {
  await client.close();
  await hive.close();
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => (e instanceof HiveError ? `${e.reason}/${e.kind}/${e.status ?? '-'}` : String(e)),
  );

describe('HiveClient', () => {
  it('answers null for an empty long-poll and a task when one is offered', async () => {
    expect(await client.poll('a-1', 0)).toBeNull();
    hive.offer({ taskId: 't-1', capability: 'echo', input: 7, leaseSeconds: 30 });
    expect(await client.poll('a-1', 5)).toMatchObject({ taskId: 't-1', input: 7 });
  });

  it('types failures: 401 fatal, 503 and resets retryable, 409 conflict', async () => {
    hive.failNext('heartbeat', 503);
    expect(await failure(client.heartbeat('a-1', { busy: false }))).toBe('server/retryable/503');
    hive.failNext('heartbeat', 0);
    expect(await failure(client.heartbeat('a-1', { busy: false }))).toBe('network/retryable/-');
    hive.failNext('result', 409);
    expect(await failure(client.postResult('t', 'a-1', { status: 'ok', output: 1 }))).toBe(
      'conflict/fatal/409',
    );
    token = 'nope';
    expect(await failure(client.heartbeat('a-1', { busy: false }))).toBe('unauthorized/fatal/401');
  });

  it('reads the token on every request (rotation applies at once) and honours abort', async () => {
    await client.heartbeat('a-1', { busy: false });
    token = 'tok-b';
    await client.heartbeat('a-1', { busy: true });
    expect(hive.seen.map((s) => s.token)).toEqual(['tok-a', 'tok-b']);
    expect(hive.seen[1]!.body).toEqual({ busy: true });
    const ac = new AbortController();
    const pending = failure(client.poll('a-1', 30, ac.signal));
    await hive.waitFor('poll', 1);
    ac.abort();
    expect(await pending).toBe('aborted/fatal/-');
  });
});

describe('HiveClient deadlines', () => {
  it('ends a request that outlives its budget as a retryable timeout', async () => {
    const slow = new HiveClient({ baseUrl: () => hive.url, token: () => 'tok-a', timeoutMs: 200 });
    try {
      hive.failNext('heartbeat', -1);
      const err = await failure(slow.heartbeat('a-1', { busy: false }));
      expect(err).toBe('timeout/retryable/-');
    } finally {
      await slow.close();
    }
  });
});
