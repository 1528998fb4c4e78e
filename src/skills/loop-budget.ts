// The tool loop's budgets (DESIGN §7), one place for their defaults and bounds: SKILL.md metadata
// may set `max-steps`, `max-tool-result-bytes` and `max-concurrent-tools` (validated in
// frontmatter.ts against the bounds here); the skill's `timeout-seconds` is the whole loop's
// deadline. Pure: a skill's extensions in, the budget with every default applied out.
import type { SkillExtensions } from './frontmatter.ts';

/** Defaults when the skill sets none. */
export const LOOP_BUDGET_DEFAULTS = {
  /** Tool calls (the output's steps) in the whole loop; one more ends it with an error output. */
  maxSteps: 8,
  /** Bytes of one tool result fed back to the model; more is cut, with a marker. */
  maxToolResultBytes: 16_384,
  /** Tool calls of one turn running at once. */
  maxConcurrentTools: 4,
} as const;

/** A prompt skill's deadline (the whole loop's) when it sets no `timeout-seconds`. */
export const DEFAULT_PROMPT_TIMEOUT_SECONDS = 120;

/** What the metadata may ask for, inclusive. */
export const LOOP_BUDGET_BOUNDS = {
  'max-steps': { min: 1, max: 32 },
  'max-tool-result-bytes': { min: 256, max: 256 * 1024 },
  'max-concurrent-tools': { min: 1, max: 16 },
} as const;

export interface LoopBudget {
  maxSteps: number;
  maxToolResultBytes: number;
  maxConcurrentTools: number;
  /** The whole loop's deadline: the skill's timeout-seconds, else DEFAULT_PROMPT_TIMEOUT_SECONDS. */
  deadlineMs: number;
}

type BudgetKeys = 'max-steps' | 'max-tool-result-bytes' | 'max-concurrent-tools' | 'timeout-seconds';

/** The skill's budget, defaults filled in. */
export function loopBudget(ext: Pick<SkillExtensions, BudgetKeys>): LoopBudget {
  return {
    maxSteps: ext['max-steps'] ?? LOOP_BUDGET_DEFAULTS.maxSteps,
    maxToolResultBytes: ext['max-tool-result-bytes'] ?? LOOP_BUDGET_DEFAULTS.maxToolResultBytes,
    maxConcurrentTools: ext['max-concurrent-tools'] ?? LOOP_BUDGET_DEFAULTS.maxConcurrentTools,
    deadlineMs: (ext['timeout-seconds'] ?? DEFAULT_PROMPT_TIMEOUT_SECONDS) * 1000,
  };
}
