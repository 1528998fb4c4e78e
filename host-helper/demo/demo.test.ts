// The demo's pure parts: provider choice and the vault fixture it implies (the real key goes only
// into the tenant's vault item; offline, the fake provider's URL does), step heads, and what the
// offline model does with the demo's question.
import { describe, expect, it } from 'vitest';
import { chooseProvider, DEMO_LANE, DEMO_TENANT, demoFixture } from './fixtures.ts';
import { stepHead } from './progress.ts';
import { chartRequest, defaultTurn } from './services/fake-llm-turns.ts';

const items = (f: ReturnType<typeof demoFixture>, collection: string) =>
  f.organizations[0]?.collections.find((c) => c.name === collection)?.items ?? [];

describe('demo provider and vault fixture', () => {
  it('prefers OpenRouter, then DeepSeek, else the offline fake', () => {
    expect(chooseProvider({ OPENROUTER_API_KEY: 'a', DEEPSEEK_API_KEY: 'b' })).toMatchObject({
      kind: 'real',
      keyVar: 'OPENROUTER_API_KEY',
    });
    expect(chooseProvider({ DEEPSEEK_API_KEY: 'b' })).toMatchObject({
      kind: 'real',
      keyVar: 'DEEPSEEK_API_KEY',
    });
    expect(chooseProvider({ OPENROUTER_API_KEY: '' })).toEqual({ kind: 'fake' });
  });

  it('puts a real key into the tenant item only, with no base URL override', () => {
    const env = { DEEPSEEK_API_KEY: 'sk-real-key-value' };
    const f = demoFixture(chooseProvider(env), env, undefined, () => 'r');
    expect(items(f, DEMO_TENANT)).toEqual([
      { name: 'DEEPSEEK_API_KEY', type: 'login', password: 'sk-real-key-value' },
    ]);
    expect(JSON.stringify(items(f, DEMO_LANE))).not.toContain('sk-real-key-value');
  });

  it('offline, points the tenant at the fake provider', () => {
    const f = demoFixture({ kind: 'fake' }, {}, 'http://127.0.0.1:1234/v1', () => 'r');
    expect(items(f, DEMO_TENANT).map((i) => i.name)).toEqual([
      'OPENROUTER_API_KEY',
      'OPENROUTER_BASE_URL',
      'CLAWDIE_MODEL',
    ]);
    expect(items(f, DEMO_TENANT)[1]).toMatchObject({ notes: 'http://127.0.0.1:1234/v1' });
  });
});

describe('demo output helpers', () => {
  it('aligns step heads', () => {
    expect(stepHead(1234, 'chat task')).toBe('[  1.2s] chat task ................. ');
    expect(stepHead(61_000, 'provision (1 bw session)')).toBe('[ 61.0s] provision (1 bw session) .. ');
  });
});

describe("the offline model's part in the demo", () => {
  const ask = (content: string, tools: string[]) => ({
    path: '/v1/chat/completions',
    authorization: undefined,
    body: {
      messages: [{ role: 'user', content }],
      tools: tools.map((name) => ({ type: 'function', function: { name } })),
    },
  });

  it('reads labelled numbers from the chart question and calls bar-chart when it is offered', () => {
    const q = "Chart last week's tasks per agent: acme 7, globex 4, initech 9, umbrella 5.";
    expect(chartRequest(q)).toEqual({
      title: "Last week's tasks per agent",
      values: { acme: 7, globex: 4, initech: 9, umbrella: 5 },
    });
    expect(defaultTurn(ask(q, ['echo', 'bar-chart']))).toEqual({
      toolCalls: [{ name: 'bar-chart', args: { ...chartRequest(q), width: 480 } }],
    });
    // Without the tool it just replies; without numbers there is no chart.
    expect(defaultTurn(ask(q, ['echo']))).toEqual({ text: `fake reply to: ${q}` });
    expect(chartRequest('chart nothing: at all')).toBeNull();
  });
});
