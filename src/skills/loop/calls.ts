// Runs the tool calls of one model turn (DESIGN §7), at most `maxConcurrent` at once. A call to a
// name outside the toolbox, or with arguments that are not JSON, is refused (an error the model
// reads), never run. A capability this agent serves runs here; any other becomes a hive task
// through the borrow path with an idempotency key derived from the loop's own task, the turn, the
// call and its arguments — so a loop run again after a lost lease finds the step's first task
// instead of running it twice — the loop's remaining time as TTL, and depth + 1. Each step is
// logged with its tool, duration and status, never its arguments or content.
import { createHash } from 'node:crypto';
import { describeError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { TaskResult } from '../../protocol/index.ts';
import type { AssembledToolCall } from '../../providers/messages.ts';
import { parseArguments } from '../../providers/tool-calls.ts';
import type { BorrowResult } from '../task-runner.ts';
import { inputOf, type Toolbox } from './tools.ts';

/** How a tool call reaches a capability: here, or through the hive. */
export interface ToolAccess {
  /** This agent serves the capability itself: it runs here (no round trip, no waiting on itself). */
  servesLocally(capability: string): boolean;
  runLocal(
    capability: string,
    input: unknown,
    o: { taskId: string; depth: number; signal: AbortSignal },
  ): Promise<TaskResult>;
  borrow(
    capability: string,
    input: unknown,
    o: { idempotencyKey: string; depth: number; ttlSeconds: number; signal: AbortSignal },
  ): Promise<BorrowResult>;
}

export type StepStatus = 'ok' | 'error' | 'refused' | 'cancelled';

/** One tool call as the task's output reports it. */
export interface Step {
  tool: string;
  /** The hive task (or the local run's id); null when the call was refused before running. */
  taskId: string | null;
  status: StepStatus;
  ms: number;
  ran: 'here' | 'hive' | 'nowhere';
}

export interface CallOutcome {
  call: AssembledToolCall;
  step: Step;
  /** What the model is told (a refusal is an error result). */
  result: TaskResult;
}

export interface TurnContext {
  toolbox: Toolbox;
  access: ToolAccess;
  /** The loop's own task: the root of local run ids and of idempotency keys. */
  taskId: string;
  turn: number;
  /** The loop's own depth; its calls run at depth + 1. */
  depth: number;
  signal: AbortSignal;
  /** Milliseconds left of the loop's deadline. */
  remainingMs: () => number;
  maxConcurrent: number;
  now: () => number;
  log?: Logger | undefined;
}

/** Pure: the key under which the hive keeps one step of one loop (per tenant; ≤ 128 chars). */
export function stepKey(taskId: string, turn: number, index: number, tool: string, args: unknown): string {
  const digest = createHash('sha256')
    .update([taskId, turn, index, tool, JSON.stringify(args)].join('\n'))
    .digest('base64url');
  return `loop-${digest}`;
}

const refusal = (message: string): TaskResult => ({ status: 'error', output: { message } });

async function runOne(call: AssembledToolCall, index: number, ctx: TurnContext): Promise<CallOutcome> {
  const started = ctx.now();
  const step = (taskId: string | null, status: StepStatus, ran: Step['ran']): Step => ({
    tool: call.name,
    taskId,
    status,
    ms: ctx.now() - started,
    ran,
  });
  const tool = ctx.toolbox.byName.get(call.name);
  if (!tool) {
    const names = [...ctx.toolbox.byName.keys()].join(', ') || 'none';
    const message = `"${call.name.slice(0, 64)}" is not an available tool (available: ${names})`;
    return { call, step: step(null, 'refused', 'nowhere'), result: refusal(message) };
  }
  const args = parseArguments(call.arguments);
  if (!args.ok) {
    const message = `${args.message}; call ${tool.name} again with a JSON object`;
    return { call, step: step(null, 'refused', 'nowhere'), result: refusal(message) };
  }
  const input = inputOf(tool, args.value);
  const depth = ctx.depth + 1;
  const here = ctx.access.servesLocally(tool.name);
  const localId = `${ctx.taskId}-t${ctx.turn}c${index}`.slice(-64);
  let taskId: string | null = here ? localId : null;
  try {
    let result: TaskResult;
    if (here) {
      result = await ctx.access.runLocal(tool.name, input, { taskId: localId, depth, signal: ctx.signal });
    } else {
      // The loop's deadline is at most timeout-seconds' bound (an hour), well under the hive's TTL cap.
      const ttlSeconds = Math.max(1, Math.ceil(ctx.remainingMs() / 1000));
      const idempotencyKey = stepKey(ctx.taskId, ctx.turn, index, tool.name, args.value);
      const { taskId: borrowedId, ...borrowed } = await ctx.access.borrow(tool.name, input, {
        idempotencyKey,
        depth,
        ttlSeconds,
        signal: ctx.signal,
      });
      taskId = borrowedId ?? null;
      result = borrowed;
    }
    // A call cut short by the deadline (or a lost lease) may still return an error result.
    const status: StepStatus = ctx.signal.aborted ? 'cancelled' : result.status;
    return { call, step: step(taskId, status, here ? 'here' : 'hive'), result };
  } catch (err) {
    const status: StepStatus = ctx.signal.aborted ? 'cancelled' : 'error';
    return { call, step: step(taskId, status, here ? 'here' : 'hive'), result: refusal(describeError(err)) };
  }
}

/** Runs every call of a turn, at most `maxConcurrent` at once; outcomes in the calls' order. */
export async function runCalls(
  calls: readonly AssembledToolCall[],
  ctx: TurnContext,
): Promise<CallOutcome[]> {
  const outcomes: CallOutcome[] = new Array(calls.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < calls.length) {
      const i = next++;
      const outcome = await runOne(calls[i]!, i, ctx);
      outcomes[i] = outcome;
      const { tool, taskId, status, ms, ran } = outcome.step;
      ctx.log?.info({ taskId: ctx.taskId, tool, stepTaskId: taskId, status, ms, ran }, 'tool step');
    }
  };
  await Promise.all(Array.from({ length: Math.min(ctx.maxConcurrent, calls.length) }, worker));
  return outcomes;
}
