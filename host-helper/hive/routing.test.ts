// Routing, fairness and lease decisions of the coordinator, as properties over arbitrary inputs,
// plus agreement between the pure rule (canServe) and the SQL that the SQLite store runs for it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canServe,
  earliest,
  isLost,
  judgeRelease,
  judgeResult,
  type LeaseFacts,
  lostCutoff,
  pickWaiter,
  requeueState,
  type WaiterView,
} from './routing.ts';
import { SqliteHiveStore } from './sqlite/store.ts';
import { Waiter, WaiterRegistry } from './waiters.ts';

const tenant = fc.constantFrom('acme', 'beta', 'gamma', 'lane');
const capability = fc.constantFrom('echo', 'chat', 'image-render', 'spawn');
const server = fc.record({
  tenant,
  shared: fc.boolean(),
  capabilities: fc.uniqueArray(capability, { maxLength: 4 }),
});
const task = fc.record({ tenant, capability });
const waiter: fc.Arbitrary<WaiterView> = fc.record({
  tenant,
  shared: fc.boolean(),
  capabilities: fc.uniqueArray(capability, { maxLength: 4 }),
  since: fc.integer({ min: 0, max: 1000 }),
  woken: fc.boolean(),
});

describe('canServe', () => {
  it('never routes a task to another tenant’s private agent', () => {
    fc.assert(
      fc.property(server, task, (a, t) => {
        if (canServe(a, t)) {
          expect(a.shared || a.tenant === t.tenant).toBe(true);
          expect(a.capabilities).toContain(t.capability);
        }
      }),
    );
  });

  it('lets a shared lane with the capability serve every tenant', () => {
    fc.assert(
      fc.property(task, tenant, (t, laneTenant) => {
        expect(canServe({ tenant: laneTenant, shared: true, capabilities: [t.capability] }, t)).toBe(true);
      }),
    );
  });
});

describe('pickWaiter', () => {
  it('wakes the longest-waiting idle eligible waiter, or none when none may serve', () => {
    fc.assert(
      fc.property(fc.array(waiter, { maxLength: 12 }), task, (ws, t) => {
        const i = pickWaiter(ws, t);
        const eligible = ws.filter((w) => !w.woken && canServe(w, t));
        if (eligible.length === 0) {
          expect(i).toBe(-1);
          return;
        }
        const picked = ws[i]!;
        expect(picked.woken).toBe(false);
        expect(canServe(picked, t)).toBe(true);
        expect(picked.since).toBe(Math.min(...eligible.map((w) => w.since)));
      }),
    );
  });
});

describe('liveness and deadlines', () => {
  it('an agent is lost only after 3 missed intervals, counted from the later of heartbeat and start', () => {
    expect(isLost(1000, 1000 + 29_999, 0, 10)).toBe(false);
    expect(isLost(1000, 1000 + 30_000, 0, 10)).toBe(true);
    // Restarted coordinator: the old heartbeat does not count against the agent yet.
    expect(isLost(0, 50_000, 40_000, 10)).toBe(false);
    expect(lostCutoff(50_000, 40_000, 10)).toBeNull();
    expect(lostCutoff(80_000, 40_000, 10)).toBe(50_000);
  });

  it('isLost is monotonic in time', () => {
    fc.assert(
      fc.property(
        fc.nat(10 ** 9),
        fc.nat(10 ** 9),
        fc.nat(10 ** 6),
        fc.integer({ min: 1, max: 60 }),
        (hb, now, d, s) => {
          if (isLost(hb, now, 0, s)) expect(isLost(hb, now + d, 0, s)).toBe(true);
        },
      ),
    );
  });

  it('a lease that ends past the TTL expires the task, before it requeues it', () => {
    expect(requeueState(100, 99)).toBe('queued');
    expect(requeueState(100, 100)).toBe('expired');
    expect(earliest(null, 5, undefined, 3)).toBe(3);
    expect(earliest()).toBeNull();
  });
});

describe('judgeResult / judgeRelease', () => {
  const leased: LeaseFacts = {
    state: 'leased',
    leaseAgent: 'a1',
    leaseTenant: 'acme',
    leaseExpires: 2000,
    completedBy: null,
  };

  it('accepts the holder while the lease lives, and nobody else', () => {
    expect(judgeResult(leased, { tenant: 'acme', agentId: 'a1' }, 1000).kind).toBe('accept');
    expect(judgeResult(leased, { tenant: 'acme' }, 1000).kind).toBe('accept');
    expect(judgeResult(leased, { tenant: null }, 1000).kind).toBe('accept');
    expect(judgeResult(leased, { tenant: 'acme', agentId: 'a2' }, 1000).kind).toBe('conflict');
    expect(judgeResult(leased, { tenant: 'beta', agentId: 'a1' }, 1000).kind).toBe('forbidden');
    expect(judgeResult(leased, { tenant: 'acme', agentId: 'a1' }, 2000).kind).toBe('conflict');
  });

  it('repeats an accepted result for its author, conflicts on a lost or expired lease', () => {
    const done: LeaseFacts = { ...leased, state: 'succeeded', leaseExpires: null, completedBy: 'a1' };
    expect(judgeResult(done, { tenant: 'acme', agentId: 'a1' }, 5000).kind).toBe('repeat');
    expect(judgeResult(done, { tenant: 'acme', agentId: 'a2' }, 5000).kind).toBe('conflict');
    expect(judgeResult({ ...leased, state: 'queued' }, { tenant: 'acme' }, 1000).kind).toBe('conflict');
    expect(judgeResult({ ...leased, state: 'expired' }, { tenant: 'acme' }, 1000).kind).toBe('conflict');
    expect(judgeResult({ ...leased, leaseTenant: null, state: 'queued' }, { tenant: 'acme' }, 1).kind).toBe(
      'forbidden',
    );
  });

  it('discards the result of a lease cancelled under its holder; anyone else conflicts', () => {
    const cancelled: LeaseFacts = { ...leased, state: 'cancelled' };
    expect(judgeResult(cancelled, { tenant: 'acme', agentId: 'a1' }, 5000).kind).toBe('discard');
    expect(judgeResult(cancelled, { tenant: 'acme', agentId: 'a2' }, 5000).kind).toBe('conflict');
    expect(judgeResult(cancelled, { tenant: 'beta', agentId: 'a1' }, 5000).kind).toBe('forbidden');
    // Cancelled while queued (a lease that had ended before): the last holder has nothing to post.
    expect(judgeResult({ ...cancelled, leaseExpires: null }, { tenant: 'acme', agentId: 'a1' }, 5).kind).toBe(
      'conflict',
    );
    expect(judgeRelease(cancelled, { tenant: 'acme', agentId: 'a1' }, 1000).kind).toBe('conflict');
  });

  it('only the live holder may release', () => {
    expect(judgeRelease(leased, { tenant: 'acme', agentId: 'a1' }, 1000).kind).toBe('accept');
    expect(judgeRelease(leased, { tenant: 'acme', agentId: 'a2' }, 1000).kind).toBe('conflict');
    expect(judgeRelease(leased, { tenant: 'beta' }, 1000).kind).toBe('forbidden');
    expect(judgeRelease({ ...leased, state: 'succeeded' }, { tenant: 'acme' }, 1000).kind).toBe('conflict');
  });

  it('never accepts a post from a tenant other than the lease holder’s', () => {
    const facts = fc.record({
      state: fc.constantFrom(
        'queued',
        'leased',
        'succeeded',
        'failed',
        'expired',
        'cancelled',
      ) as fc.Arbitrary<LeaseFacts['state']>,
      leaseAgent: fc.option(fc.constantFrom('a1', 'a2')),
      leaseTenant: fc.option(tenant),
      leaseExpires: fc.option(fc.nat(3000)),
      completedBy: fc.option(fc.constantFrom('a1', 'a2')),
    });
    fc.assert(
      fc.property(
        facts,
        tenant,
        fc.option(fc.constantFrom('a1', 'a2'), { nil: undefined }),
        fc.nat(3000),
        (f, t, a, now) => {
          for (const v of [
            judgeResult(f, { tenant: t, agentId: a }, now),
            judgeRelease(f, { tenant: t, agentId: a }, now),
          ]) {
            if (v.kind === 'accept' || v.kind === 'repeat' || v.kind === 'discard')
              expect(f.leaseTenant).toBe(t);
          }
        },
      ),
    );
  });
});

describe('SQLite leaseNext agrees with canServe', () => {
  it('leases the oldest queued task the agent may serve, and only such a task', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(task, { maxLength: 8 }), server, async (tasks, agent) => {
        const store = new SqliteHiveStore(':memory:');
        try {
          for (const [i, t] of tasks.entries()) {
            await store.insertTask({ taskId: `t${i}`, ...t, inputJson: 'null', expiresAt: 10_000 }, 1);
          }
          const leased = await store.leaseNext({ agentId: 'x', ...agent }, 5, 100);
          const first = tasks.findIndex((t) => canServe(agent, t));
          expect(leased?.taskId ?? null).toBe(first === -1 ? null : `t${first}`);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('does not lease a queued task whose TTL ended', async () => {
    const store = new SqliteHiveStore(':memory:');
    await store.insertTask(
      { taskId: 't', tenant: 'acme', capability: 'echo', inputJson: '1', expiresAt: 50 },
      1,
    );
    const agent = { agentId: 'a', tenant: 'acme', shared: false, capabilities: ['echo'] };
    expect(await store.leaseNext(agent, 50, 100)).toBeNull();
    expect(await store.expireQueued(50)).toEqual([
      { taskId: 't', tenant: 'acme', capability: 'echo', state: 'expired' },
    ]);
    expect((await store.getTask('t'))?.state).toBe('expired');
    await store.close();
  });
});

describe('WaiterRegistry', () => {
  const signal = new AbortController().signal;
  const mk = (agentId: string, since: number, caps = ['echo']): Waiter =>
    new Waiter({ agentId, tenant: 'acme', shared: false, capabilities: caps }, since);

  it('wakes one waiter per task, longest-waiting first, and hands on a wake its waiter did not use', async () => {
    const reg = new WaiterRegistry();
    const [a, b] = [mk('a', 1), mk('b', 2)];
    reg.add(b);
    reg.add(a);
    const pa = a.wait(60_000, signal);
    const pb = b.wait(60_000, signal);
    expect(reg.wake({ tenant: 'acme', capability: 'echo' })).toBe(true);
    expect(await pa).toBe('wake');
    // a is woken and claiming: the next task goes to b, not to a again.
    expect(reg.wake({ tenant: 'acme', capability: 'echo' })).toBe(true);
    expect(await pb).toBe('wake');
    expect(reg.wake({ tenant: 'beta', capability: 'echo' })).toBe(false);
    // Both claim; a leaves. A new task's wake reaches b mid-claim (b waits longer than c) and stays
    // pending; b then ends with another task (even one of the same capability), so that wake is
    // handed on to c.
    a.beginClaim();
    b.beginClaim();
    reg.remove(a);
    const c = mk('c', 3);
    reg.add(c);
    const pc = c.wait(60_000, signal);
    reg.wake({ tenant: 'acme', capability: 'echo' });
    expect(b.wokenFor).toHaveLength(1);
    reg.remove(b);
    expect(await pc).toBe('wake');
  });

  it('ends waiters by predicate and remembers a stop that came while claiming', async () => {
    const reg = new WaiterRegistry();
    const a = mk('a', 1);
    reg.add(a);
    expect(reg.end((w) => w.agentId === 'a', 'stop')).toBe(1);
    expect(await a.wait(60_000, signal)).toBe('stop');
    expect(await a.wait(0, signal)).toBe('timeout');
  });
});
