// Tool calls through the provider: the pure assembly of streamed fragments (property-tested against
// arbitrary splits), and real SSE from the fake provider — parallel calls interleaved by index, a
// reused index, malformed arguments, DeepSeek's thinking-mode rules (reasoning sent back on tool-call
// turns, no tool_choice), OpenRouter's reasoning_details (joined by index, sent back unmodified on
// tool-call turns), a model without tools answered plainly, in-stream errors under HTTP 200.
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeLlm, startFakeLlm } from '../../host-helper/demo/services/fake-llm.ts';
import { ProviderResponseError } from './errors.ts';
import { assistantTurn, type ChatMessage, type ToolDefinition } from './messages.ts';
import { ReasoningDetailsAssembler } from './reasoning-details.ts';
import { providerFromEnv } from './select.ts';
import { parseArguments, ToolCallAssembler } from './tool-calls.ts';

describe('tool-call assembly (pure)', () => {
  it('joins argument fragments by index, whatever the split and interleaving', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string(), fc.array(fc.nat(), { maxLength: 4 })), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (calls, reuseIndex) => {
          const a = new ToolCallAssembler();
          const cut = (text: string, at: number[]): string[] => {
            const points = [...new Set(at.map((n) => n % (text.length + 1)))].sort((x, y) => x - y);
            const parts: string[] = [];
            let from = 0;
            for (const p of points) {
              parts.push(text.slice(from, p));
              from = p;
            }
            parts.push(text.slice(from));
            return parts;
          };
          const split = calls.map(([args, at], i) => ({ i, parts: cut(args, at) }));
          if (reuseIndex) {
            for (const { i, parts } of split) {
              a.push({ index: 0, id: `id${i}`, function: { name: `t${i}`, arguments: '' } });
              for (const p of parts) a.push({ index: 0, function: { arguments: p } });
            }
          } else {
            for (const { i } of split) a.push({ index: i, id: `id${i}`, function: { name: `t${i}` } });
            const rounds = Math.max(...split.map((s) => s.parts.length));
            for (let r = 0; r < rounds; r++)
              for (const { i, parts } of split)
                if (parts[r] !== undefined) a.push({ index: i, function: { arguments: parts[r] } });
          }
          expect(a.calls()).toEqual(
            calls.map(([args], i) => ({ id: `id${i}`, name: `t${i}`, arguments: args })),
          );
        },
      ),
    );
  });

  it('keeps a repeated name once, gives id-less calls stable ids, reads missing indexes', () => {
    const a = new ToolCallAssembler();
    a.push({ function: { name: 'echo', arguments: '{"a"' } });
    a.push({ function: { name: 'echo', arguments: ':1}' } });
    a.push({ id: 'x', function: { name: 'other', arguments: '{}' } });
    expect(a.calls()).toEqual([
      { id: 'call_0', name: 'echo', arguments: '{"a":1}' },
      { id: 'x', name: 'other', arguments: '{}' },
    ]);
  });

  it('joins reasoning_details fragments by index, whatever the split, keeping every field', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string(), fc.string(), fc.nat(5)), { minLength: 1, maxLength: 3 }),
        (details) => {
          const a = new ReasoningDetailsAssembler();
          const whole = details.map(([text, signature], index) => ({
            type: 'reasoning.text',
            text,
            signature,
            format: 'anthropic-claude-v1',
            extra: { kept: index },
          }));
          // Heads first, then the text in pieces of `cut` characters, interleaved across details.
          for (const [index, d] of whole.entries())
            a.push({ type: d.type, index, format: d.format, extra: d.extra });
          const cuts = details.map(([text, , n]) => {
            const size = Math.max(1, n);
            const parts: string[] = [];
            for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
            return parts;
          });
          for (let r = 0; r < Math.max(...cuts.map((c) => c.length)); r++)
            for (const [index, parts] of cuts.entries())
              if (parts[r] !== undefined) a.push({ index, text: parts[r] });
          for (const [index, d] of whole.entries()) a.push({ index, signature: d.signature });
          expect(a.details()).toEqual(
            whole
              .map((d, index) => ({ ...d, index, ...(d.text === '' ? { text: undefined } : {}) }))
              .map((d) => Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined))),
          );
        },
      ),
    );
    // Details without an index (a whole message, or one per chunk) are each their own.
    const b = new ReasoningDetailsAssembler();
    b.push({ type: 'reasoning.encrypted', data: 'x' });
    b.push({ type: 'reasoning.summary', summary: 'y' });
    expect(b.details()).toEqual([
      { type: 'reasoning.encrypted', data: 'x' },
      { type: 'reasoning.summary', summary: 'y' },
    ]);
  });

  it('parses arguments: empty is {}, junk is a message for the model', () => {
    expect(parseArguments('')).toEqual({ ok: true, value: {} });
    expect(parseArguments('{"n": 2}')).toEqual({ ok: true, value: { n: 2 } });
    expect(parseArguments('{"title": ')).toMatchObject({ ok: false, message: /not valid JSON/ });
  });
});

const KEY = 'sk-test-tools-0123456789abcdef';
let fake: FakeLlm;
beforeAll(async () => {
  fake = await startFakeLlm({ apiKey: KEY });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.setRules({});
  fake.setReply((req) => `fake reply to: ${req.body.messages?.at(-1)?.content ?? ''}`);
});

const tools: ToolDefinition[] = ['add', 'upper'].map((name) => ({
  type: 'function',
  function: { name, description: `the ${name} tool`, parameters: { type: 'object' } },
}));
const user: ChatMessage[] = [{ role: 'user', content: 'add and shout' }];
const provider = (vendor: 'OPENROUTER' | 'DEEPSEEK' = 'OPENROUTER') =>
  providerFromEnv(
    { [`${vendor}_API_KEY`]: KEY, [`${vendor}_BASE_URL`]: fake.url },
    { sleep: async () => {}, timeoutMs: 5_000 },
  );

describe('tool calls against the fake provider', () => {
  it('assembles parallel calls streamed interleaved, sends tools and never a tool_choice', async () => {
    fake.setReply(() => ({
      toolCalls: [
        { name: 'add', args: { a: 2, b: 40 } },
        { name: 'upper', args: { text: 'a longer argument split over several chunks' } },
      ],
    }));
    const result = await provider().chat({ messages: user, tools });
    expect(result.finishReason).toBe('tool_calls');
    expect(result.toolCalls.map((c) => [c.name, JSON.parse(c.arguments)])).toEqual([
      ['add', { a: 2, b: 40 }],
      ['upper', { text: 'a longer argument split over several chunks' }],
    ]);
    expect(new Set(result.toolCalls.map((c) => c.id)).size).toBe(2);
    const sent = fake.requests.at(-1)!.body;
    expect(sent.tools).toEqual(tools);
    expect(sent).not.toHaveProperty('tool_choice');
  });

  it('a new id under a reused index is a new call; malformed arguments arrive as they were sent', async () => {
    fake.setReply(() => ({
      reuseIndex: true,
      toolCalls: [
        { name: 'add', rawArguments: '{"a": 1, "b": ' },
        { name: 'no-such-tool', args: {} },
      ],
    }));
    const result = await provider().chat({ messages: user, tools });
    expect(result.toolCalls.map((c) => [c.name, c.arguments])).toEqual([
      ['add', '{"a": 1, "b": '],
      ['no-such-tool', '{}'],
    ]);
    expect(parseArguments(result.toolCalls[0]!.arguments).ok).toBe(false);
  });

  it('DeepSeek thinking mode: the reasoning of a tool-call turn goes back, and only to DeepSeek', async () => {
    fake.setRules({ deepseekThinking: true });
    fake.setReply((req) =>
      req.body.messages?.at(-1)?.role === 'tool'
        ? { reasoning: 'the sum is known now', text: 'It is 42.' }
        : { reasoning: 'I should call add.', toolCalls: [{ name: 'add', args: { a: 2, b: 40 } }] },
    );
    for (const vendor of ['DEEPSEEK', 'OPENROUTER'] as const) {
      const p = provider(vendor);
      const first = await p.chat({ messages: user, tools });
      expect(first.reasoning).toBe('I should call add.');
      const messages: ChatMessage[] = [
        ...user,
        assistantTurn(first),
        { role: 'tool', tool_call_id: first.toolCalls[0]!.id, content: '{"sum":42}' },
      ];
      if (vendor === 'DEEPSEEK') {
        const second = await p.chat({ messages, tools });
        expect(second).toMatchObject({ text: 'It is 42.', toolCalls: [], reasoning: 'the sum is known now' });
        expect(fake.requests.at(-1)!.body.messages?.[1]).toMatchObject({
          role: 'assistant',
          content: null,
          reasoning_content: 'I should call add.',
        });
      } else {
        // OpenRouter gets no reasoning_content field; the fake, playing DeepSeek's rules, refuses it.
        await expect(p.chat({ messages, tools })).rejects.toThrow(/reasoning_content .*passed back/);
        expect(fake.requests.at(-1)!.body.messages?.[1]).not.toHaveProperty('reasoning_content');
      }
    }
  });

  it("OpenRouter's reasoning_details of a tool-call turn go back unmodified, and only to OpenRouter", async () => {
    fake.setRules({ preserveReasoning: true });
    const details = [
      {
        type: 'reasoning.text',
        text: 'The user wants a sum; add does that.',
        signature: 'sig-Zm9v',
        format: 'anthropic-claude-v1',
      },
      {
        type: 'reasoning.encrypted',
        data: 'ZW5jcnlwdGVkIHRoaW5raW5n',
        id: 'rs_1',
        format: 'openai-responses-v1',
      },
    ];
    fake.setReply((req) =>
      req.body.messages?.at(-1)?.role === 'tool'
        ? { text: 'It is 42.' }
        : { reasoningDetails: details, toolCalls: [{ name: 'add', args: { a: 2, b: 40 } }] },
    );
    for (const vendor of ['OPENROUTER', 'DEEPSEEK'] as const) {
      const p = provider(vendor);
      const first = await p.chat({ messages: user, tools });
      expect(first.reasoningDetails).toEqual(details.map((d, index) => ({ ...d, index })));
      const messages: ChatMessage[] = [
        ...user,
        assistantTurn(first),
        { role: 'tool', tool_call_id: first.toolCalls[0]!.id, content: '{"sum":42}' },
      ];
      if (vendor === 'OPENROUTER') {
        expect((await p.chat({ messages, tools })).text).toBe('It is 42.');
        expect(fake.requests.at(-1)!.body.messages?.[1]?.reasoning_details).toEqual(first.reasoningDetails);
        // Altered details are refused by the model behind OpenRouter (the fake plays that rule).
        const altered = structuredClone(messages);
        const turn = altered[1] as { reasoning_details?: Record<string, unknown>[] };
        turn.reasoning_details![0]!.text = 'edited';
        await expect(p.chat({ messages: altered, tools })).rejects.toThrow(/passed back unmodified/);
      } else {
        // DeepSeek gets no reasoning_details field; the fake, playing OpenRouter's rule, refuses that.
        await expect(p.chat({ messages, tools })).rejects.toThrow(/passed back unmodified/);
        expect(fake.requests.at(-1)!.body.messages?.[1]).not.toHaveProperty('reasoning_details');
      }
    }
  });

  it('a model without tool support answers plainly: asked again without tools, once', async () => {
    fake.setRules({ noTools: true });
    const before = fake.requests.length;
    const result = await provider().chat({ messages: user, tools });
    expect(result).toMatchObject({ text: 'fake reply to: add and shout', toolsDropped: true, toolCalls: [] });
    const sent = fake.requests.slice(before).map((r) => r.body.tools?.length ?? 0);
    expect(sent).toEqual([2, 0]);
    // Without tools offered, nothing is dropped.
    expect((await provider().chat({ messages: user })).toolsDropped).toBe(false);
  });

  it('an in-stream error under HTTP 200 is retried before any text, final after it', async () => {
    let calls = 0;
    fake.setReply(() =>
      ++calls === 1
        ? { text: 'never shown', midStreamError: { code: 502, message: 'upstream died', afterChunks: 0 } }
        : { text: 'second try works' },
    );
    const retried = await provider().chat({ messages: user });
    expect(retried).toMatchObject({ text: 'second try works', attempts: 2 });

    fake.setReply(() => ({
      text: 'one two three four',
      midStreamError: { code: 'server_error', message: 'cut' },
    }));
    const seen: string[] = [];
    const err = await provider()
      .chat({ messages: user }, { onDelta: (d) => seen.push(d) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderResponseError);
    expect((err as Error).message).toMatch(/failed mid-stream: cut/);
    expect(seen.join('')).toBe('one two ');

    calls = 0;
    fake.setReply(() => ({
      text: 'x',
      midStreamError: { code: 'content_filter', message: 'flagged', afterChunks: 0 },
    }));
    const before = fake.requests.length;
    await expect(provider().chat({ messages: user })).rejects.toThrow(/flagged/);
    expect(fake.requests.length - before).toBe(1);
  });
});
