// Borrowing a capability (DESIGN §5 routing): submit a task through the hive and wait for its
// result by reading it back at a doubling, capped cadence (the shared backoff, without jitter).
// Used by TaskContext.borrow for skills.
import { isTerminal, type TaskResult } from '../protocol/tasks.ts';
import { type BackoffPolicy, nextDelay } from '../retry/backoff.ts';
import type { HiveClient } from './client.ts';
import { HiveError } from './errors.ts';

export interface BorrowOptions {
  ttlSeconds?: number;
  signal?: AbortSignal;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Reading the task back: 100 ms, 200 ms, … up to 2 s between reads. */
const READ_BACK: BackoffPolicy = { baseMs: 100, capMs: 2_000, jitter: 'none' };

export async function borrow(
  hive: HiveClient,
  capability: string,
  input: unknown,
  options: BorrowOptions,
): Promise<TaskResult> {
  const signal = options.signal ?? new AbortController().signal;
  const body =
    options.ttlSeconds === undefined
      ? { capability, input }
      : { capability, input, ttlSeconds: options.ttlSeconds };
  const { taskId } = await hive.submitTask(body, signal);
  for (let read = 0; ; read++) {
    if (signal.aborted) throw new HiveError(`borrowed task ${taskId} was abandoned`, 'aborted');
    try {
      const view = await hive.getTask(taskId, signal);
      if (isTerminal(view.state)) {
        if (view.result) return view.result;
        return { status: 'error', output: { message: `borrowed task ended ${view.state}` } };
      }
    } catch (err) {
      if (!(err instanceof HiveError) || err.kind !== 'retryable') throw err;
    }
    await options.sleep(nextDelay(read, READ_BACK) ?? READ_BACK.capMs, signal);
  }
}
