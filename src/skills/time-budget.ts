// How long one task of a skill may run (DESIGN §7 `timeout-seconds`), one place for both kinds: a
// script skill's timeout (its declaration, else the script limits' default) and a prompt skill's
// whole-loop deadline (loop-budget.ts). The script runner and the prompt loop enforce it themselves;
// the agent machine reads it to bound the task (it keeps the hive's lease renewed until then, and
// aborts the task a little after, should the skill not stop by itself). Pure, and light enough for
// boot: nothing here loads a provider or spawns a process.
import type { SkillExtensions } from './frontmatter.ts';
import { loopBudget } from './loop-budget.ts';

/** A script skill's timeout when it declares no `timeout-seconds` (and the limits set none). */
export const DEFAULT_SCRIPT_TIMEOUT_MS = 60_000;

/** A task's time budget in ms: `timeout-seconds` when declared, else the default of its kind. */
export function skillTimeoutMs(
  ext: SkillExtensions,
  scriptDefaultMs: number = DEFAULT_SCRIPT_TIMEOUT_MS,
): number {
  if (ext.runs === 'script') {
    return ext['timeout-seconds'] ? ext['timeout-seconds'] * 1000 : scriptDefaultMs;
  }
  return loopBudget(ext).deadlineMs;
}
