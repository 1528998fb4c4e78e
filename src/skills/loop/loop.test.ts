// The tool loop through runPrompt, against the fake provider over real HTTP/SSE, with the hive side
// replaced by an in-process catalog and borrow (the real hive path is covered by
// test/integration/loop-*.test.ts): parallel calls and their tool messages, the concurrency bound,
// refusals the model reads, every budget, binary kept out of the model's sight, the depth bound,
// local versus borrowed calls, and a model that takes no tools.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeLlm,
  type RecordedRequest,
  startFakeLlm,
} from '../../../host-helper/demo/services/fake-llm.ts';
import {
  type CatalogEntry,
  MAX_TOOL_DEPTH,
  type TaskAssignment,
  type TaskResult,
} from '../../protocol/index.ts';
import { providerFromEnv } from '../../providers/select.ts';
import type { SkillExtensions } from '../frontmatter.ts';
import { type LocalCapabilities, runPrompt } from '../prompt.ts';
import type { TaskContext } from '../task-runner.ts';

const KEY = 'sk-loop-test-0123456789abcdef';
const PNG_B64 = Buffer.concat([
  Buffer.from('89504e470d0a1a0a0000000d49484452000000300000001808060000', 'hex'),
  Buffer.alloc(64, 1),
]).toString('base64');

let fake: FakeLlm;
beforeAll(async () => {
  fake = await startFakeLlm({ apiKey: KEY });
});
afterAll(() => fake.close());
beforeEach(() => fake.setRules({}));

const entry = (name: string, servedBy: ('own' | 'lane')[] = ['lane']): CatalogEntry => ({
  name,
  description: `the ${name} tool`,
  servedBy,
  liveAgents: 1,
});
const CATALOG = ['chat', 'add', 'upper', 'slow', 'big', 'picture'].map((n) => entry(n));

interface Seen {
  name: string;
  input: unknown;
  how: 'here' | 'hive';
  idempotencyKey?: string;
  depth: number;
  ttlSeconds?: number;
}

function harness(o: { local?: string[]; catalog?: () => Promise<CatalogEntry[]> } = {}) {
  const seen: Seen[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const tool = async (name: string, input: unknown, signal: AbortSignal): Promise<TaskResult> => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await new Promise((r) => setTimeout(r, 20));
      const i = input as Record<string, unknown>;
      if (name === 'add') return { status: 'ok', output: { sum: Number(i.a) + Number(i.b) } };
      if (name === 'upper') return { status: 'ok', output: String(i.text).toUpperCase() };
      if (name === 'big') return { status: 'ok', output: 'x'.repeat(50_000) };
      if (name === 'picture') return { status: 'ok', output: { format: 'png', base64: PNG_B64 } };
      if (name === 'slow') {
        await new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted'))),
        );
      }
      return { status: 'error', output: { message: `no ${name}` } };
    } finally {
      inFlight--;
    }
  };
  const context: TaskContext = {
    signal: new AbortController().signal,
    env: { OPENROUTER_API_KEY: KEY, OPENROUTER_BASE_URL: fake.url },
    borrow: async (name, input, opts) => {
      seen.push({
        name,
        input,
        how: 'hive',
        idempotencyKey: opts?.idempotencyKey,
        depth: opts?.depth ?? 0,
        ttlSeconds: opts?.ttlSeconds,
      });
      return { ...(await tool(name, input, opts!.signal!)), taskId: `hive-${seen.length}` };
    },
    catalog: o.catalog ?? (async () => CATALOG),
  };
  const local: LocalCapabilities = {
    serves: (c) => (o.local ?? []).includes(c),
    run: async (task, signal) => {
      seen.push({
        name: task.capability,
        input: task.input,
        how: 'here',
        depth: task.depth ?? 0,
      });
      return tool(task.capability, task.input, signal);
    },
  };
  return { seen, context, local, maxInFlight: () => maxInFlight };
}

let n = 0;
async function chat(
  h: ReturnType<typeof harness>,
  extensions: Record<string, unknown> = {},
  task: Partial<TaskAssignment> = {},
): Promise<TaskResult> {
  return runPrompt({
    skill: {
      name: 'chat',
      body: 'You answer.',
      extensions: {
        capabilities: ['chat'],
        env: [],
        os: [],
        borrows: [],
        runs: 'prompt',
        ...extensions,
      } as SkillExtensions,
    },
    task: { taskId: `task-${++n}`, capability: 'chat', input: 'go', leaseSeconds: 60, ...task },
    context: h.context,
    local: h.local,
    provider: (env) => providerFromEnv(env, { sleep: async () => {}, timeoutMs: 5_000 }),
  });
}

const toolNames = (req: RecordedRequest): string[] => (req.body.tools ?? []).map((t) => t.function.name);
const afterTools = (req: RecordedRequest): boolean => req.body.messages?.at(-1)?.role === 'tool';

describe('the tool loop', () => {
  it('runs parallel calls at once, answers each by its tool_call_id, then answers; tool output only in tool messages', async () => {
    const h = harness({ local: ['add'] });
    fake.setReply((req) =>
      afterTools(req)
        ? { text: 'The sum is 42 and HEY.' }
        : {
            toolCalls: [
              { name: 'add', args: { a: 2, b: 40 }, id: 'c-add' },
              { name: 'upper', args: { text: 'hey' }, id: 'c-up' },
            ],
          },
    );
    const before = fake.requests.length;
    const result = await chat(h);
    expect(result).toEqual({
      status: 'ok',
      output: {
        text: 'The sum is 42 and HEY.',
        model: 'openrouter/auto',
        provider: 'openrouter',
        steps: [
          {
            tool: 'add',
            taskId: expect.stringMatching(/^task-\d+-t0c0$/),
            status: 'ok',
            ms: expect.any(Number),
            ran: 'here',
          },
          { tool: 'upper', taskId: 'hive-2', status: 'ok', ms: expect.any(Number), ran: 'hive' },
        ],
      },
    });
    expect(h.maxInFlight()).toBe(2);
    const [first, second] = fake.requests.slice(before);
    expect(toolNames(first!)).toEqual(['add', 'upper', 'slow', 'big', 'picture']); // not itself
    expect(second!.body.messages?.slice(2)).toEqual([
      expect.objectContaining({ role: 'assistant', content: null }),
      { role: 'tool', tool_call_id: 'c-add', content: '{"sum":42}' },
      { role: 'tool', tool_call_id: 'c-up', content: 'HEY' },
    ]);
    expect(second!.body.messages?.[0]).toEqual(first!.body.messages?.[0]);
    // Local run at depth 1; the borrowed one with a step key, depth 1 and a TTL within the deadline.
    expect(h.seen).toEqual([
      { name: 'add', input: { a: 2, b: 40 }, how: 'here', depth: 1 },
      {
        name: 'upper',
        input: { text: 'hey' },
        how: 'hive',
        idempotencyKey: expect.stringMatching(/^loop-/),
        depth: 1,
        ttlSeconds: 120,
      },
    ]);
  });

  it('bounds the calls run at once by max-concurrent-tools', async () => {
    const h = harness();
    const calls = Array.from({ length: 5 }, (_, i) => ({ name: 'add', args: { a: i, b: 1 } }));
    fake.setReply((req) => (afterTools(req) ? 'done' : { toolCalls: calls }));
    const result = await chat(h, { 'max-concurrent-tools': 2 });
    expect(result.status).toBe('ok');
    expect(h.seen).toHaveLength(5);
    expect(h.maxInFlight()).toBe(2);
  });

  it('refuses an unknown tool and malformed arguments as errors the model reads, and goes on', async () => {
    const h = harness();
    let toolMessages: unknown[] = [];
    fake.setReply((req) => {
      if (!afterTools(req)) {
        return {
          reuseIndex: true,
          toolCalls: [
            { name: 'add', rawArguments: '{"a": 1, "b":' },
            { name: 'secret-tool', args: {} },
          ],
        };
      }
      toolMessages = req.body.messages!.filter((m) => m.role === 'tool').map((m) => JSON.parse(m.content!));
      return 'I could not do it.';
    });
    const result = await chat(h);
    expect(result).toMatchObject({ status: 'ok', output: { text: 'I could not do it.' } });
    expect((result.output as { steps: unknown[] }).steps).toEqual([
      { tool: 'add', taskId: null, status: 'refused', ms: expect.any(Number), ran: 'nowhere' },
      { tool: 'secret-tool', taskId: null, status: 'refused', ms: expect.any(Number), ran: 'nowhere' },
    ]);
    expect(toolMessages).toEqual([
      { error: expect.stringMatching(/arguments are not valid JSON.*call add again/) },
      { error: expect.stringMatching(/"secret-tool" is not an available tool \(available: add, upper/) },
    ]);
    expect(h.seen).toEqual([]);
  });

  it('max-steps: a model that never stops calling tools ends with a clear error and the steps done', async () => {
    const h = harness();
    fake.setReply(() => ({ toolCalls: [{ name: 'add', args: { a: 1, b: 1 } }] }));
    const result = await chat(h, { 'max-steps': 3 });
    expect(result).toMatchObject({
      status: 'error',
      output: {
        message: 'skill chat: the model asked for 1 more tool call(s) after 3; max-steps is 3',
        stop: 'max-steps',
        retryable: false,
      },
    });
    expect((result.output as { steps: unknown[] }).steps).toHaveLength(3);
  });

  it('deadline: the whole loop is bounded by timeout-seconds, a call in flight is cancelled', async () => {
    const h = harness();
    fake.setReply(() => ({ toolCalls: [{ name: 'slow', args: {} }] }));
    const result = await chat(h, { 'timeout-seconds': 1 });
    expect(result).toMatchObject({
      status: 'error',
      output: {
        stop: 'deadline',
        message: expect.stringMatching(/timed out after 1 s \(timeout-seconds\) with 1 tool step/),
      },
    });
    expect((result.output as { steps: { status: string }[] }).steps[0]!.status).toBe('cancelled');
  });

  it('a big result is cut at max-tool-result-bytes with a marker; binary is described, kept as an artifact', async () => {
    const h = harness();
    let contents: string[] = [];
    fake.setReply((req) => {
      if (!afterTools(req)) return { toolCalls: [{ name: 'big' }, { name: 'picture' }] };
      contents = req.body.messages!.filter((m) => m.role === 'tool').map((m) => m.content!);
      return 'Here it is.';
    });
    const result = await chat(h, { 'max-tool-result-bytes': 1000 });
    expect(contents[0]).toMatch(
      /^x{1000}\n…\[truncated by the agent: the result has 50000 bytes, the first 1000 are shown\]$/,
    );
    expect(contents[1]).toMatch(
      /"base64":"\[binary image\/png 48×24, 92 bytes: .*artifact 1 of the final answer\]"/,
    );
    expect(contents[1]).not.toContain(PNG_B64.slice(0, 20));
    expect(result).toMatchObject({
      status: 'ok',
      output: {
        artifacts: [
          {
            tool: 'picture',
            taskId: 'hive-2',
            path: 'base64',
            mediaType: 'image/png',
            width: 48,
            height: 24,
            base64: PNG_B64,
          },
        ],
      },
    });
  });

  it('output size: an answer whose artifacts do not fit a task result ends with a clear error', async () => {
    const h = harness();
    fake.setReply((req) => (afterTools(req) ? 'Here.' : { toolCalls: [{ name: 'picture' }] }));
    const result = await runPrompt({
      skill: {
        name: 'chat',
        body: 'x',
        extensions: { capabilities: ['chat'], env: [], os: [], borrows: [], runs: 'prompt' },
      },
      task: { taskId: 'task-size', capability: 'chat', input: 'go', leaseSeconds: 60 },
      context: h.context,
      provider: (env) => providerFromEnv(env),
      maxOutputBytes: 100,
    });
    expect(result).toMatchObject({
      status: 'error',
      output: {
        stop: 'output-size',
        message: expect.stringMatching(/artifacts has \d+ bytes; at most 100 fit a task result/),
      },
    });
  });

  it('offers no tools at the depth bound, or when the catalog cannot be read', async () => {
    fake.setReply(() => 'plain');
    const before = fake.requests.length;
    expect(await chat(harness(), {}, { depth: MAX_TOOL_DEPTH })).toMatchObject({
      status: 'ok',
      output: { text: 'plain', steps: [] },
    });
    const broken = harness({ catalog: async () => Promise.reject(new Error('hive down')) });
    expect(await chat(broken)).toMatchObject({ status: 'ok', output: { text: 'plain' } });
    expect(fake.requests.slice(before).map((r) => r.body.tools)).toEqual([undefined, undefined]);
  });

  it('a model without tool support answers plainly', async () => {
    fake.setRules({ noTools: true });
    fake.setReply(() => 'no tools here');
    expect(await chat(harness())).toMatchObject({
      status: 'ok',
      output: { text: 'no tools here', steps: [] },
    });
  });
});
