// The bounds of one tool loop (DESIGN §7), from the skill's metadata with defaults: tool steps, the
// whole loop's deadline (the skill's timeout-seconds), bytes of one tool result fed back, calls run
// at once. Pure.
import type { SkillExtensions } from '../frontmatter.ts';

export interface LoopBudgets {
  /** Tool calls in the whole loop (each one a step). */
  maxSteps: number;
  /** The whole loop, model turns and tool calls together. */
  deadlineMs: number;
  /** Of one tool result, as fed back to the model (cut with a marker beyond). */
  maxToolResultBytes: number;
  /** Calls of one turn run at once. */
  maxConcurrentTools: number;
}

export const DEFAULT_LOOP_TIMEOUT_MS = 120_000;

// TODO(issue 16, catalog branch): read these through frontmatter's typed accessors once merged.
const DEFAULTS = { 'max-steps': 8, 'max-tool-result-bytes': 16_384, 'max-concurrent-tools': 4 } as const;

function metadataNumber(ext: SkillExtensions, key: keyof typeof DEFAULTS): number {
  const value = (ext as Record<string, unknown>)[key];
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : DEFAULTS[key];
}

export function loopBudgets(ext: SkillExtensions, defaultTimeoutMs = DEFAULT_LOOP_TIMEOUT_MS): LoopBudgets {
  const seconds = ext['timeout-seconds'];
  return {
    maxSteps: metadataNumber(ext, 'max-steps'),
    deadlineMs: seconds ? seconds * 1000 : defaultTimeoutMs,
    maxToolResultBytes: metadataNumber(ext, 'max-tool-result-bytes'),
    maxConcurrentTools: metadataNumber(ext, 'max-concurrent-tools'),
  };
}
