// nextDelay is pure: bounded by the cap, growing ceilings, full jitter, a budget that ends in null.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextDelay } from './backoff.ts';

describe('nextDelay', () => {
  it('stays within [0, min(cap, base·2^attempt)] for any attempt and random draw', () => {
    fc.assert(
      fc.property(
        fc.nat(10_000),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, baseMs, capMs, r) => {
          const d = nextDelay(attempt, { baseMs, capMs }, () => r);
          expect(d).not.toBeNull();
          expect(d!).toBeGreaterThanOrEqual(0);
          expect(d!).toBeLessThanOrEqual(Math.min(capMs, baseMs * 2 ** attempt));
        },
      ),
    );
  });

  it('doubles its ceiling per attempt up to the cap (random = 1)', () => {
    const seq = [0, 1, 2, 3, 4, 5, 6].map((a) => nextDelay(a, { baseMs: 100, capMs: 1_000 }, () => 1));
    expect(seq).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it('uses full jitter: the draw scales the whole ceiling', () => {
    expect(nextDelay(3, { baseMs: 100, capMs: 10_000 }, () => 0)).toBe(0);
    expect(nextDelay(3, { baseMs: 100, capMs: 10_000 }, () => 0.5)).toBe(400);
  });

  it('answers null once the attempt budget is spent, and for nonsense attempts', () => {
    const policy = { baseMs: 10, capMs: 100, maxRetries: 3 };
    expect(nextDelay(2, policy, () => 1)).toBe(40);
    expect(nextDelay(3, policy, () => 1)).toBeNull();
    expect(nextDelay(-1, policy)).toBeNull();
    expect(nextDelay(Number.NaN, policy)).toBeNull();
  });
});

describe('nextDelay without jitter (a polling cadence)', () => {
  it('is the ceiling itself: doubling from base up to the cap, whatever the draw', () => {
    const policy = { baseMs: 100, capMs: 2_000, jitter: 'none' as const };
    const seq = [0, 1, 2, 3, 4, 5, 9].map((a) => nextDelay(a, policy, () => 0));
    expect(seq).toEqual([100, 200, 400, 800, 1_600, 2_000, 2_000]);
  });
});
