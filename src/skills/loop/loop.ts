// The bounded tool loop of a prompt skill (DESIGN §7): ask the model; run the tools it calls (calls.ts)
// and give their results back as `role: "tool"` messages; repeat until it answers without calls.
// Bounded by max steps (tool calls in all), the whole loop's deadline and the size of the output; a
// budget hit ends the loop with an error output that says which one, with the steps done so far.
// Output: `{text, model, provider, steps, artifacts?}` (artifacts: the binary the tools produced,
// which the model only saw described).
import { describeError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { TaskResult } from '../../protocol/index.ts';
import { assistantTurn, type ChatMessage, type ChatProvider } from '../../providers/messages.ts';
import type { LoopBudget } from '../loop-budget.ts';
import { MAX_TASK_OUTPUT_BYTES } from '../task-runner.ts';
import { runCalls, type Step, type ToolAccess } from './calls.ts';
import { type Artifact, extractBinary, toolContent } from './results.ts';
import { NO_TOOLS, type Toolbox } from './tools.ts';

export interface LoopRun {
  skillName: string;
  provider: ChatProvider;
  /** Overrides the provider's default model. */
  model?: string | undefined;
  /** Who the agent is and the skill's instructions: never tool output (that is data, in tool messages). */
  system: string;
  user: string;
  toolbox: Toolbox;
  access: ToolAccess;
  /** The loop's own task id and depth (its calls run at depth + 1). */
  taskId: string;
  depth: number;
  budgets: LoopBudget;
  /** Aborted when the lease is lost or the agent shuts down. */
  signal: AbortSignal;
  now?: () => number;
  log?: Logger | undefined;
  maxOutputBytes?: number;
}

/** Which bound ended a loop early. */
export type Stop = 'max-steps' | 'deadline' | 'output-size';

export async function runLoop(run: LoopRun): Promise<TaskResult> {
  const { budgets, provider, skillName } = run;
  const now = run.now ?? Date.now;
  const started = now();
  const deadline = AbortSignal.timeout(budgets.deadlineMs);
  const signal = AbortSignal.any([run.signal, deadline]);
  const messages: ChatMessage[] = [
    { role: 'system', content: run.system },
    { role: 'user', content: run.user },
  ];
  const steps: Step[] = [];
  const artifacts: Artifact[] = [];
  let toolbox = run.toolbox;
  let model = run.model ?? provider.defaultModel;

  const stopped = (stop: Stop, why: string): TaskResult => {
    run.log?.warn({ taskId: run.taskId, skill: skillName, stop, steps: steps.length }, 'tool loop stopped');
    const message = `skill ${skillName}: ${why}`;
    return {
      status: 'error',
      output: { message, retryable: false, stop, model, provider: provider.name, steps },
    };
  };
  const timedOut = (): TaskResult =>
    stopped(
      'deadline',
      `timed out after ${budgets.deadlineMs / 1000} s (timeout-seconds) with ${steps.length} tool step(s) done`,
    );

  try {
    for (let turn = 0; ; turn++) {
      const tools = toolbox.definitions;
      const reply = await provider.chat(
        { messages, ...(run.model ? { model: run.model } : {}), ...(tools.length > 0 ? { tools } : {}) },
        { signal },
      );
      model = reply.model;
      if (reply.toolsDropped) {
        run.log?.info({ taskId: run.taskId, model }, 'the model takes no tools; answering without them');
        toolbox = NO_TOOLS;
      }
      if (reply.toolCalls.length === 0) {
        const output = {
          text: reply.text,
          model,
          provider: provider.name,
          steps,
          ...(artifacts.length > 0 ? { artifacts } : {}),
        };
        const bytes = Buffer.byteLength(JSON.stringify(output));
        const max = run.maxOutputBytes ?? MAX_TASK_OUTPUT_BYTES;
        if (bytes > max)
          return stopped(
            'output-size',
            `the answer with its artifacts has ${bytes} bytes; at most ${max} fit a task result`,
          );
        return { status: 'ok', output };
      }
      const asked = reply.toolCalls.length;
      if (steps.length + asked > budgets.maxSteps) {
        return stopped(
          'max-steps',
          `the model asked for ${asked} more tool call(s) after ${steps.length}; max-steps is ${budgets.maxSteps}`,
        );
      }
      messages.push(assistantTurn(reply));
      const outcomes = await runCalls(reply.toolCalls, {
        toolbox,
        access: run.access,
        taskId: run.taskId,
        turn,
        depth: run.depth,
        signal,
        remainingMs: () => budgets.deadlineMs - (now() - started),
        maxConcurrent: budgets.maxConcurrentTools,
        now,
        log: run.log,
      });
      for (const { call, step, result } of outcomes) {
        steps.push(step);
        const origin = { tool: step.tool, taskId: step.taskId ?? '' };
        const { data, artifacts: found } = extractBinary(result.output, origin, artifacts.length + 1);
        artifacts.push(...found);
        messages.push({
          role: 'tool',
          tool_call_id: call.id,
          content: toolContent(result, data, budgets.maxToolResultBytes),
        });
      }
      if (deadline.aborted) return timedOut();
      if (run.signal.aborted) throw new Error('aborted');
    }
  } catch (err) {
    if (deadline.aborted) return timedOut();
    const retryable = (err as { kind?: string }).kind === 'retryable' || run.signal.aborted;
    const message = `skill ${skillName}: ${run.signal.aborted ? 'aborted' : describeError(err)}`;
    return { status: 'error', output: { message, retryable, model, provider: provider.name, steps } };
  }
}
