// Bug witness (found by the full hive-faults run: 21 tasks stayed `leased` 170 s past their lease
// end, with every agent live): a deadline armed DURING a slow sweep whose timer fires before that
// sweep ends was remembered as armed (#at) although its timer was spent, so every later arm() for
// a later deadline was skipped and leases never ended again. Under fake time.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { DeadlineTimer } from '../../host-helper/hive/deadline-timer.ts';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

it('a deadline whose timer fires during a slow sweep does not stall later deadlines', async () => {
  // The store: pending deadlines; a sweep ends the due ones and returns the earliest left.
  const pending: number[] = [];
  const ended: number[] = [];
  let release: (() => void) | undefined;
  let sweeps = 0;
  const t = new DeadlineTimer(
    async () => {
      sweeps += 1;
      if (sweeps === 1) await new Promise<void>((r) => (release = r)); // a slow sweep
      const now = Date.now();
      for (const d of pending.filter((x) => x <= now)) {
        pending.splice(pending.indexOf(d), 1);
        ended.push(d);
      }
      return pending.length ? Math.min(...pending) : null;
    },
    () => {},
  );
  const lease = (at: number): void => {
    pending.push(at);
    t.arm(at);
  };
  void t.fire(); // sweep 1 starts at 0 and hangs
  lease(100); // a lease handed out meanwhile
  await vi.advanceTimersByTimeAsync(200); // its timer fires while sweep 1 still runs
  release?.();
  await vi.advanceTimersByTimeAsync(0);
  lease(5_000); // a later lease
  await vi.advanceTimersByTimeAsync(10_000);
  expect(ended).toEqual([100, 5_000]);
  t.stop();
});
