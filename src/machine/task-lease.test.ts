import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { heartbeatDelay, TASK_DEADLINE_GRACE_MS, TaskLease } from './task-lease.ts';

describe('TaskLease', () => {
  it('runs one lease from the start, is pushed on by renewals (never back) and ends once', () => {
    const l = new TaskLease(1_000, 2, 60_000);
    expect(l.until).toBe(3_000);
    expect(l.deadline).toBe(61_000 + TASK_DEADLINE_GRACE_MS);
    expect(l.due(2_999)).toBe(3_000);
    expect(l.due(3_000)).toBe('lost');
    l.renewed(2_500);
    expect(l.until).toBe(4_500);
    l.renewed(1_500);
    expect(l.until).toBe(4_500);
    expect(l.held(4_000)).toBe(true);
    expect(l.end('cancelled')).toBe(true);
    expect(l.end('lost')).toBe(false);
    expect(l.ended).toBe('cancelled');
    expect(l.signal.aborted).toBe(true);
    expect(l.held(4_000)).toBe(false);
  });

  it('past its deadline a task is timed out and no longer named in heartbeats, whatever the renewals', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 0, max: 3_600_000 }),
        fc.array(fc.integer({ min: 0, max: 4_000_000 })),
        (start, leaseSeconds, budgetMs, renewals) => {
          const l = new TaskLease(start, leaseSeconds, budgetMs);
          for (const r of renewals) l.renewed(start + r);
          expect(l.held(l.deadline)).toBe(false);
          expect(l.due(l.deadline)).toBe('timed-out');
          // Before both ends, the next look is at the earlier one, and never in the past.
          const due = l.due(start);
          if (typeof due === 'number') expect(due).toBe(Math.min(l.deadline, l.until));
        },
      ),
    );
  });
});

describe('heartbeatDelay', () => {
  it('is the hive’s interval when idle, and at most a third of the lease while a task runs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 60_000 }), fc.integer({ min: 1, max: 600 }), (hb, lease) => {
        const l = new TaskLease(0, lease, 1_000);
        expect(heartbeatDelay(hb, undefined)).toBe(hb);
        const busy = heartbeatDelay(hb, l);
        expect(busy).toBeLessThanOrEqual(hb);
        expect(busy).toBeLessThanOrEqual(Math.max(100, (lease * 1000) / 3));
        expect(busy).toBeGreaterThanOrEqual(Math.min(hb, 100));
      }),
    );
  });
});
