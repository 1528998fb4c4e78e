// Borrowing a capability (DESIGN §5 routing): submit a task through the hive and wait for its
// result by reading it back at a doubling, capped cadence (the shared backoff, without jitter).
// Used by TaskContext.borrow for skills and by the tool loop for each tool call. With an
// idempotency key a failed submit is retried (the hive answers a repeat with the first task, so a
// retried submit — or a whole loop re-run after a lost lease — never runs the step twice); without
// one a submit is tried once, since its effect may have landed before the failure.
import { isTerminal, type TaskResult } from '../protocol/tasks.ts';
import { type BackoffPolicy, nextDelay } from '../retry/backoff.ts';
import type { HiveClient } from './client.ts';
import { HiveError } from './errors.ts';

export interface BorrowOptions {
  ttlSeconds?: number | undefined;
  /** Per tenant on the hive: a repeat returns the first task instead of a new one. */
  idempotencyKey?: string | undefined;
  /** Tool-call depth of the borrowed task (its submitter's depth + 1). */
  depth?: number | undefined;
  signal?: AbortSignal;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** A borrowed task's result and the task that produced it. */
export type Borrowed = TaskResult & { taskId: string };

/** Reading the task back: 25 ms, 50 ms, … up to 2 s between reads (a quick tool step is back in ~25 ms). */
const READ_BACK: BackoffPolicy = { baseMs: 25, capMs: 2_000, jitter: 'none' };
/** Submits with an idempotency key are retried this many times on retryable failures. */
const SUBMIT_RETRIES = 4;
const SUBMIT_BACKOFF: BackoffPolicy = { baseMs: 200, capMs: 2_000 };

export async function borrow(
  hive: HiveClient,
  capability: string,
  input: unknown,
  options: BorrowOptions,
): Promise<Borrowed> {
  const signal = options.signal ?? new AbortController().signal;
  const body = {
    capability,
    input,
    ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
    ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
    ...(options.depth ? { depth: options.depth } : {}),
  };
  const retries = options.idempotencyKey === undefined ? 0 : SUBMIT_RETRIES;
  let taskId: string | undefined;
  for (let retry = 0; taskId === undefined; retry++) {
    try {
      ({ taskId } = await hive.submitTask(body, signal));
    } catch (err) {
      if (!(err instanceof HiveError) || err.kind !== 'retryable' || retry >= retries || signal.aborted)
        throw err;
      await options.sleep(nextDelay(retry, SUBMIT_BACKOFF) ?? SUBMIT_BACKOFF.capMs, signal);
    }
  }
  for (let read = 0; ; read++) {
    if (signal.aborted) throw new HiveError(`borrowed task ${taskId} was abandoned`, 'aborted');
    try {
      const view = await hive.getTask(taskId, signal);
      if (isTerminal(view.state)) {
        if (view.result) return { ...view.result, taskId };
        return { status: 'error', output: { message: `borrowed task ended ${view.state}` }, taskId };
      }
    } catch (err) {
      if (!(err instanceof HiveError) || err.kind !== 'retryable') throw err;
    }
    await options.sleep(nextDelay(read, READ_BACK) ?? READ_BACK.capMs, signal);
  }
}
