// Waiting for a task to end, for one tools/call: reads the task's state, tells every change (queued,
// leased, queued again after a lost lease …) to `onState`, and returns its view once it is terminal.
// Between reads it waits for whichever comes first: a change this process made to the task (the
// coordinator's TaskWatch: leased by a poll here, a result posted here, a cancel here), its own
// re-read cadence (25 ms doubling to 500 ms, reset at each change: what another replica sharing the
// store did is seen that way), or the caller's signal. Every `QUIET_MS` without a change it tells
// `onQuiet`, so a client that resets its timeout on progress keeps waiting on a long task.
// In: the coordinator, who asks, the task id; out: the terminal view, or an AbortError.
import { isTerminal, type TaskState, type TaskView } from '../../../src/protocol/index.ts';
import { type BackoffPolicy, nextDelay } from '../../../src/retry/backoff.ts';
import type { Coordinator, Principal } from '../coordinator.ts';

const REREAD: BackoffPolicy = { baseMs: 25, capMs: 500, jitter: 'none' };
export const QUIET_MS = 15_000;

export interface FollowOptions {
  signal: AbortSignal;
  onState: (state: TaskState) => Promise<void>;
  onQuiet: (state: TaskState, sinceMs: number) => Promise<void>;
}

/** Resolves after `ms`, on a change of the task made here, or when `signal` aborts. */
function nextChange(hive: Coordinator, taskId: string, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      unwatch();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const unwatch = hive.watchTask(taskId, done);
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function followTask(
  hive: Coordinator,
  p: Principal,
  taskId: string,
  o: FollowOptions,
): Promise<TaskView> {
  let last: TaskState | null = null;
  let changedAt = Date.now();
  let quietAt = changedAt;
  let waits = 0;
  for (;;) {
    o.signal.throwIfAborted();
    const view = await hive.getTask(p, taskId);
    if (view.state !== last) {
      last = view.state;
      waits = 0;
      changedAt = quietAt = Date.now();
      if (isTerminal(view.state)) return view;
      await o.onState(view.state);
    } else if (Date.now() - quietAt >= QUIET_MS) {
      quietAt = Date.now();
      await o.onQuiet(view.state, quietAt - changedAt);
    }
    await nextChange(hive, taskId, nextDelay(waits++, REREAD) ?? REREAD.capMs, o.signal);
  }
}
