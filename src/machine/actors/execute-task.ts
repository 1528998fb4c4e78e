// Actor for one leased task (running.executing, and draining while it finishes): runs it through the
// TaskRunner, then posts the result until the hive acknowledges it — retrying transient failures with
// backoff while the lease lasts, never posting again after an acknowledgement. Spawned (not invoked)
// so that draining can let it finish. While the runner runs, a watch ends the task (its skill's
// signal aborts) when its lease runs out with no renewal heard (the hive requeues it: going on would
// run it twice) or its deadline (the skill's time budget plus a grace) passes. A task that ended
// cancelled (its submitter) or lost (the hive's heartbeat answer, or the watch) posts nothing: the
// hive would discard or refuse the result. Output: what became of the result.
import { fromPromise } from 'xstate';
import { describeError } from '../../errors.ts';
import { borrow } from '../../hive/borrow.ts';
import { HiveError } from '../../hive/errors.ts';
import type { TaskAssignment, TaskResult } from '../../protocol/tasks.ts';
import { nextDelay } from '../../retry/backoff.ts';
import type { TaskRunner } from '../../skills/task-runner.ts';
import type { AgentDeps } from '../deps.ts';
import type { TaskLease } from '../task-lease.ts';
import { hiveCall } from './hive-call.ts';

interface ExecuteInput {
  deps: AgentDeps;
  runner: TaskRunner;
  agentId: string;
  task: TaskAssignment;
  /** The task's lease (renewed by heartbeats) and deadline; its signal stops the skill. */
  lease: TaskLease;
}

export type ExecuteOutcome =
  | 'acknowledged'
  | 'lease-expired'
  | 'lease-lost'
  | 'refused'
  | 'aborted'
  | 'cancelled';

/** Ends the task when its lease runs out unrenewed or its deadline passes; returns once `stop` aborts or the task ended. */
async function watchLease(deps: AgentDeps, task: TaskAssignment, lease: TaskLease, stop: AbortSignal) {
  const wake = AbortSignal.any([stop, lease.signal]);
  while (!wake.aborted) {
    const now = deps.now();
    const due = lease.due(now);
    if (typeof due === 'number') {
      await deps.sleep(due - now, wake);
      continue;
    }
    if (!lease.end(due)) return;
    if (due === 'lost') {
      deps.log.warn({ taskId: task.taskId }, 'the task’s lease ran out with no renewal heard; stopping it');
    } else {
      deps.log.warn({ taskId: task.taskId }, 'the task ran past its time budget; stopping it');
    }
  }
}

async function runWatched(input: ExecuteInput, actorSignal: AbortSignal): Promise<TaskResult> {
  const ran = new AbortController();
  const watch = watchLease(input.deps, input.task, input.lease, AbortSignal.any([actorSignal, ran.signal]));
  try {
    return await runOnce(input, actorSignal);
  } finally {
    ran.abort();
    await watch;
  }
}

async function runOnce(input: ExecuteInput, actorSignal: AbortSignal): Promise<TaskResult> {
  const { deps, task } = input;
  const signal = AbortSignal.any([actorSignal, input.lease.signal]);
  try {
    return await input.runner.run(task, {
      signal,
      env: deps.secrets.get() ?? {},
      agentId: input.agentId,
      catalog: async (catalogSignal) => (await deps.hive.capabilities(catalogSignal)).capabilities,
      spawn: (capabilities, spawnSignal) =>
        deps.hive.spawn({ parent: input.agentId, capabilities: [...capabilities] }, spawnSignal),
      borrow: (capability, borrowed, options) =>
        borrow(deps.hive, capability, borrowed, {
          ttlSeconds: options?.ttlSeconds,
          idempotencyKey: options?.idempotencyKey,
          depth: options?.depth,
          signal: options?.signal ? AbortSignal.any([signal, options.signal]) : signal,
          sleep: deps.sleep,
        }),
    });
  } catch (err) {
    // A runner should return {status: 'error'}; a throw is reported the same way, without details
    // that could carry secrets.
    deps.log.warn({ taskId: task.taskId, err: describeError(err) }, 'task runner threw');
    return { status: 'error', output: { message: 'the task failed inside the agent' } };
  }
}

export const executeTask = fromPromise<ExecuteOutcome, ExecuteInput>(
  async ({ input, signal }): Promise<ExecuteOutcome> => {
    const { deps, task, agentId, lease } = input;
    const result = await runWatched(input, signal);
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) return 'aborted';
      // Checked again after each retry wait: a heartbeat may have said so meanwhile.
      if (lease.ended === 'cancelled') {
        deps.log.info({ taskId: task.taskId }, 'task cancelled; its result is not posted');
        return 'cancelled';
      }
      if (lease.ended === 'lost') {
        deps.log.info({ taskId: task.taskId }, 'task lease lost; its result is not posted');
        return 'lease-lost';
      }
      try {
        await hiveCall(deps, () => deps.hive.postResult(task.taskId, agentId, result, signal));
        deps.log.info({ taskId: task.taskId, status: result.status }, 'result acknowledged');
        return 'acknowledged';
      } catch (err) {
        const e = err instanceof HiveError ? err : undefined;
        if (e?.reason === 'aborted' || signal.aborted) return 'aborted';
        if (e?.reason === 'conflict') {
          deps.log.warn({ taskId: task.taskId }, 'result refused: the lease had expired');
          return 'lease-expired';
        }
        if (e?.kind !== 'retryable') {
          deps.log.warn({ taskId: task.taskId, err: describeError(err) }, 'result refused by the hive');
          return 'refused';
        }
        const delay = nextDelay(attempt, deps.tuning.backoff, deps.random) ?? deps.tuning.backoff.capMs;
        if (deps.now() + delay >= lease.until) {
          deps.log.warn({ taskId: task.taskId }, 'result not acknowledged before the lease expired');
          return 'lease-expired';
        }
        deps.log.info(
          { taskId: task.taskId, delayMs: delay, err: describeError(err) },
          'result post failed; retrying',
        );
        await deps.sleep(delay, signal);
      }
    }
  },
);
