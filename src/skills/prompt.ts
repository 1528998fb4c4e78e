// Runs a prompt skill for one task (DESIGN §7): the SKILL.md body becomes the system instructions,
// the task input the user message, and the provider (from the task's current `.env`) streams the
// answer. Output `{text, model}`; provider failures become `{status: 'error'}` with a safe message.
import { describeError } from '../errors.ts';
import type { TaskAssignment, TaskResult } from '../protocol/index.ts';
import type { ChatProvider } from '../providers/openai-compatible.ts';
import { modelFor } from '../providers/select.ts';
import type { LoadedSkill } from './discover.ts';
import type { TaskContext } from './task-runner.ts';

/** A string input is the message; `{prompt}` or `{message}` strings are taken as is; else JSON. */
export function userMessage(input: unknown): string {
  if (typeof input === 'string') return input;
  if (input !== null && typeof input === 'object') {
    const record = input as Record<string, unknown>;
    for (const key of ['prompt', 'message', 'text']) {
      if (typeof record[key] === 'string') return record[key];
    }
  }
  return JSON.stringify(input ?? null);
}

/** Order in which soul files are placed before a skill's instructions (identity first). */
const SOUL_ORDER = ['SOUL.md', 'IDENTITY.md', 'AGENTS.md', 'USER.md'];

/** The system message: the resolved soul files (who the agent is), then the skill's instructions. */
export function systemPrompt(soul: Readonly<Record<string, string>>, body: string): string {
  const names = [
    ...SOUL_ORDER.filter((n) => soul[n]),
    ...Object.keys(soul)
      .filter((n) => !SOUL_ORDER.includes(n))
      .sort(),
  ];
  const parts = names.map((n) => soul[n]!.trim()).filter((t) => t.length > 0);
  return [...parts, body].join('\n\n---\n\n');
}

export interface PromptRun {
  skill: Pick<LoadedSkill, 'name' | 'body' | 'extensions'>;
  task: TaskAssignment;
  context: TaskContext;
  provider: (env: Readonly<Record<string, string>>) => ChatProvider;
  /** Resolved soul files by name (DESIGN §7), placed before the skill's instructions. */
  soul?: Readonly<Record<string, string>>;
  /** Overall deadline when the skill sets none (metadata timeout-seconds). */
  timeoutMs?: number;
}

export async function runPrompt(run: PromptRun): Promise<TaskResult> {
  const { skill, task, context } = run;
  const seconds = skill.extensions['timeout-seconds'];
  const deadline = AbortSignal.timeout(seconds ? seconds * 1000 : (run.timeoutMs ?? 120_000));
  const signal = AbortSignal.any([context.signal, deadline]);
  try {
    const provider = run.provider(context.env);
    const model = modelFor(context.env, skill.extensions.model);
    const result = await provider.chat(
      {
        messages: [
          { role: 'system', content: systemPrompt(run.soul ?? {}, skill.body) },
          { role: 'user', content: userMessage(task.input) },
        ],
        ...(model ? { model } : {}),
      },
      { signal },
    );
    return { status: 'ok', output: { text: result.text, model: result.model, provider: provider.name } };
  } catch (err) {
    const retryable = (err as { kind?: string }).kind === 'retryable';
    const message = deadline.aborted
      ? `skill ${skill.name}: timed out`
      : `skill ${skill.name}: ${describeError(err)}`;
    return { status: 'error', output: { message, retryable } };
  }
}
