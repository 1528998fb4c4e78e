// Actor for one leased task (running.executing, and draining while it finishes): runs it through the
// TaskRunner, then posts the result until the hive acknowledges it — retrying transient failures with
// backoff until the lease expires, never posting again after an acknowledgement. Spawned (not invoked)
// so that draining can let it finish. A task its submitter cancelled (the hive says so in a heartbeat
// answer) has its skill's signal aborted and posts nothing: the hive would discard the result.
// Output: what became of the result.
import { fromPromise } from 'xstate';
import { describeError } from '../../errors.ts';
import { borrow } from '../../hive/borrow.ts';
import { HiveError } from '../../hive/errors.ts';
import type { TaskAssignment, TaskResult } from '../../protocol/tasks.ts';
import { nextDelay } from '../../retry/backoff.ts';
import type { TaskRunner } from '../../skills/task-runner.ts';
import type { AgentDeps } from '../deps.ts';
import { hiveCall } from './hive-call.ts';

interface ExecuteInput {
  deps: AgentDeps;
  runner: TaskRunner;
  agentId: string;
  task: TaskAssignment;
  /** Epoch ms after which the lease is gone and a result would be refused. */
  deadline: number;
  /** Aborted when the hive reports the task cancelled by its submitter. */
  cancelled?: AbortSignal;
}

export type ExecuteOutcome = 'acknowledged' | 'lease-expired' | 'refused' | 'aborted' | 'cancelled';

async function runOnce(input: ExecuteInput, actorSignal: AbortSignal): Promise<TaskResult> {
  const { deps, task } = input;
  const signal = input.cancelled ? AbortSignal.any([actorSignal, input.cancelled]) : actorSignal;
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
    const { deps, task, agentId } = input;
    const result = await runOnce(input, signal);
    if (input.cancelled?.aborted && !signal.aborted) {
      deps.log.info({ taskId: task.taskId }, 'task cancelled; its result is not posted');
      return 'cancelled';
    }
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) return 'aborted';
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
        if (deps.now() + delay >= input.deadline) {
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
