// The deadline timer under fake time: it fires at the earliest armed deadline, follows the next
// deadline its sweep returns, never runs two sweeps at once, and retries a failed sweep after 1 s.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { DeadlineTimer } from './deadline-timer.ts';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

it('fires at the earliest armed deadline and then at the one the sweep returns', async () => {
  const fired: number[] = [];
  const nexts = [5000, null];
  const t = new DeadlineTimer(
    async () => {
      fired.push(Date.now());
      return nexts.shift() ?? null;
    },
    () => {},
  );
  t.arm(3000);
  t.arm(1000);
  t.arm(2000);
  await vi.advanceTimersByTimeAsync(10_000);
  expect(fired).toEqual([1001, 5001]);
  t.stop();
});

it('runs a sweep asked for during another right after it, and retries a failed sweep in 1 s', async () => {
  let running = 0;
  let overlap = false;
  let calls = 0;
  const errors: unknown[] = [];
  const t = new DeadlineTimer(
    async () => {
      calls++;
      if (running > 0) overlap = true;
      running++;
      await new Promise((r) => setTimeout(r, 100));
      running--;
      if (calls === 1) throw new Error('store down');
      return null;
    },
    (err) => errors.push(err),
  );
  const first = t.fire();
  await t.fire(); // asked while the first runs: deferred, not overlapping
  await vi.advanceTimersByTimeAsync(150);
  await first;
  expect(errors).toHaveLength(1);
  // The deferred request started as soon as the first sweep ended (before the 1 s retry).
  expect(calls).toBe(2);
  await vi.advanceTimersByTimeAsync(200);
  expect(calls).toBe(2);
  expect(overlap).toBe(false);
  t.stop();
  await vi.advanceTimersByTimeAsync(5000);
  expect(calls).toBe(2);
});

it('retries a failed sweep after 1 s', async () => {
  let calls = 0;
  const t = new DeadlineTimer(
    async () => {
      calls++;
      if (calls === 1) throw new Error('store down');
      return null;
    },
    () => {},
  );
  await t.fire();
  await vi.advanceTimersByTimeAsync(999);
  expect(calls).toBe(1);
  await vi.advanceTimersByTimeAsync(5);
  expect(calls).toBe(2);
  t.stop();
});
