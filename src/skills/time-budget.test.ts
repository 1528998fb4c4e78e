import { describe, expect, it } from 'vitest';
import { SkillExtensions } from './frontmatter.ts';
import { DEFAULT_PROMPT_TIMEOUT_SECONDS } from './loop-budget.ts';
import { DEFAULT_SCRIPT_TIMEOUT_MS, skillTimeoutMs } from './time-budget.ts';

const ext = (metadata: Record<string, string>) => SkillExtensions.parse(metadata);

describe('skillTimeoutMs', () => {
  it('is the declared timeout-seconds of either kind, else the default of its kind', () => {
    expect(skillTimeoutMs(ext({ runs: 'script', entry: 'run.mjs', 'timeout-seconds': '330' }))).toBe(330_000);
    expect(skillTimeoutMs(ext({ runs: 'script', entry: 'run.mjs' }))).toBe(DEFAULT_SCRIPT_TIMEOUT_MS);
    expect(skillTimeoutMs(ext({ runs: 'script', entry: 'run.mjs' }), 5_000)).toBe(5_000);
    expect(skillTimeoutMs(ext({ 'timeout-seconds': '900' }))).toBe(900_000);
    expect(skillTimeoutMs(ext({}))).toBe(DEFAULT_PROMPT_TIMEOUT_SECONDS * 1000);
  });
});
