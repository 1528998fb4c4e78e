// The coordinator's long-poll dispatch against a store with arbitrary latency (as a networked
// PostgreSQL store would have): however polls, submits and store calls interleave, no wake is lost
// (no poll times out while a task it may serve is queued) and no task is delivered twice.
// Time is fake (vi timers); interleavings come from random microtask delays, not sleeps.
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Coordinator, type Principal } from '../../host-helper/hive/coordinator.ts';
import { SqliteHiveStore } from '../../host-helper/hive/sqlite/store.ts';
import type { HiveStore } from '../../host-helper/hive/store/store.ts';
import { createLogger } from '../../src/log.ts';
import { echoAgent } from '../support/hive-fixtures.ts';

const log = createLogger({
  name: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});

/** Wraps every store method in a random number of microtask hops before and after the call. */
function withLatency(store: HiveStore, hops: () => number): HiveStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => Promise<unknown>;
      return async (...args: unknown[]) => {
        for (let i = hops(); i > 0; i--) await Promise.resolve();
        const out = await fn.apply(target, args);
        for (let i = hops(); i > 0; i--) await Promise.resolve();
        return out;
      };
    },
  });
}

const acme: Principal = { kind: 'tenant', tenant: 'acme', shared: false };

/**
 * Fakes the clock and builds a coordinator over an in-memory store whose calls each take the next
 * number of microtask hops from `delays` (cycled); `hops` hands out the same sequence to the test.
 */
function latentHive(delays: number[]): { hops: () => number; store: HiveStore; hive: Coordinator } {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  let d = 0;
  const hops = (): number => delays[d++ % delays.length]!;
  const store = withLatency(new SqliteHiveStore(':memory:'), hops);
  const hive = new Coordinator(
    store,
    { heartbeatSeconds: 10, pollSeconds: 5, leaseSeconds: 60 },
    'a'.repeat(32),
    log,
  );
  return { hops, store, hive };
}

/** Registers an 'echo' agent of tenant acme. */
const register = (hive: Coordinator, agentId: string): Promise<unknown> =>
  hive.register(acme, echoAgent(agentId));

afterEach(() => {
  vi.useRealTimers();
});

describe('Coordinator dispatch with an async store', () => {
  it('never loses a wake and never delivers a task twice', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 12 }),
        fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 64, maxLength: 64 }),
        async (agents, tasks, delays) => {
          // Only the clock is fake: no poll may time out, so every delivery below comes from a wake.
          const { hops, store, hive } = latentHive(delays);
          const stop = new AbortController();
          try {
            await hive.start();
            const delivered: string[] = [];
            // Each agent polls, completes what it got, and polls again, like the real agent.
            const loops = Array.from({ length: agents }, async (_, i) => {
              await register(hive, `a${i}`);
              while (!stop.signal.aborted) {
                const t = await hive.poll(acme, `a${i}`, 5, stop.signal);
                if (!t) continue;
                delivered.push(t.taskId);
                await hive.result(acme, t.taskId, { status: 'ok', output: null, agentId: `a${i}` });
              }
            });
            const submitted: string[] = [];
            for (let s = 0; s < tasks; s++) {
              for (let i = hops(); i > 0; i--) await Promise.resolve();
              submitted.push((await hive.submit(acme, { capability: 'echo', input: s })).taskId);
            }
            for (let round = 0; round < 50 && delivered.length < tasks; round++) {
              await new Promise((r) => setImmediate(r));
            }
            expect(new Set(delivered).size).toBe(delivered.length);
            expect([...delivered].sort()).toEqual([...submitted].sort());
            stop.abort();
            await Promise.all(loops);
          } finally {
            hive.stop();
            await store.close();
            vi.useRealTimers();
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('wakes a waiting poll for every task, even when the woken one took another task meanwhile', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 64, maxLength: 64 }),
        async (agents, delays) => {
          const { hops, store, hive } = latentHive(delays);
          try {
            await hive.start();
            for (let i = 0; i < agents; i++) {
              await register(hive, `a${i}`);
            }
            // One poll per agent, no re-poll: a task whose wake is dropped would stay queued.
            const signal = new AbortController().signal;
            const delivered: string[] = [];
            const polls = Array.from({ length: agents }, (_, i) =>
              hive.poll(acme, `a${i}`, 5, signal).then((t) => t && delivered.push(t.taskId)),
            );
            // One more poll whose client goes away at a random moment: a task handed or leased to
            // it must come back to the queue and reach one of the others.
            await register(hive, 'ghost');
            const leaving = new AbortController();
            const ghost = hive.poll(acme, 'ghost', 5, leaving.signal).then(async (t) => {
              if (t && leaving.signal.aborted) await hive.undelivered('ghost', t.taskId);
              else if (t) delivered.push(t.taskId);
            });
            const submits: Promise<unknown>[] = [];
            const leaveAt = hops();
            for (let s = 0; s < agents; s++) {
              if (s === leaveAt) leaving.abort();
              for (let i = hops(); i > 0; i--) await Promise.resolve();
              submits.push(hive.submit(acme, { capability: 'echo', input: s }));
            }
            leaving.abort();
            await Promise.all(submits);
            for (let round = 0; round < 50 && delivered.length < agents; round++) {
              await new Promise((r) => setImmediate(r));
            }
            expect(new Set(delivered).size).toBe(agents);
            expect(delivered).toHaveLength(agents);
            await vi.advanceTimersByTimeAsync(6000);
            await Promise.all([...polls, ghost]);
          } finally {
            hive.stop();
            await store.close();
            vi.useRealTimers();
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
