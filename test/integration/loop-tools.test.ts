// The agent loop with real processes (DESIGN §7): the reference hive, three real agents — acme's
// (the shipped chat, budget-tight prompt skills, local tools), a shared lane serving `upper`, and a
// private agent of tenant `other` serving `secret-tool` — and the fake provider in this process
// scripting the model by the user's message. A chat calls two tools in one turn (one here, one only
// the lane serves) that must overlap to finish, then answers; the other tenant's tool is neither
// offered nor callable; the step, deadline and output-size budgets end the loop with a clear error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeLlm,
  type RecordedRequest,
  startFakeLlm,
} from '../../host-helper/demo/services/fake-llm.ts';
import { lastUser } from '../../host-helper/demo/services/fake-llm-turns.ts';
import { type HiveProcess, startHive } from '../support/hive-process.ts';
import {
  type AgentProcess,
  removeRoot,
  submit,
  type TaskView,
  taskView,
  waitUntil,
} from './agent-process.ts';
import { READ_INPUT, startLoopAgent, tempBase } from './loop-support.ts';

let hive: HiveProcess;
let fake: FakeLlm;
let base: string;
let rendezvousDir: string;
const agents: Record<'acme' | 'lane' | 'other', AgentProcess> = {} as never;
const tokens: Record<string, string> = {};
/** The tools the model was offered, by scenario (the user's message). */
const offered = new Map<string, string[]>();
let parallelTools: NonNullable<RecordedRequest['body']['tools']> = [];

const toolsOf = (req: RecordedRequest): string[] => (req.body.tools ?? []).map((t) => t.function.name);
const results = (req: RecordedRequest) => (req.body.messages ?? []).filter((m) => m.role === 'tool');

function model(req: RecordedRequest) {
  const scenario = lastUser(req);
  const done = results(req);
  if (done.length === 0) offered.set(scenario, toolsOf(req));
  if (scenario === 'parallel' && done.length === 0) parallelTools = req.body.tools ?? [];
  switch (scenario) {
    case 'parallel':
      if (done.length > 0) return `answer: ${done.map((m) => m.content).join(' | ')}`;
      return {
        toolCalls: [
          { name: 'add', args: { a: 2, b: 40, waitFor: 'upper-ran' } },
          { name: 'upper', args: { text: 'hive', mark: 'upper-ran' } },
        ],
      };
    case 'isolation':
      return done.length > 0
        ? `told: ${done[0]!.content}`
        : { toolCalls: [{ name: 'secret-tool', args: {} }] };
    case 'steps':
      return { toolCalls: [{ name: 'add', args: { a: 1, b: done.length } }] };
    case 'deadline':
      return done.length > 0 ? 'too late' : { toolCalls: [{ name: 'slow' }] };
    case 'size':
      return done.length > 0
        ? 'two blobs'
        : {
            toolCalls: [
              { name: 'blob', args: { n: 1 } },
              { name: 'blob', args: { n: 2 } },
            ],
          };
    default:
      return `fake reply to: ${scenario}`;
  }
}

const ADD = `${READ_INPUT}
import { existsSync } from 'node:fs';
// Finishes only once upper has run: a turn's calls must overlap, or this one fails.
for (let i = 0; input.waitFor && !existsSync(process.env.LOOP_RENDEZVOUS + '/' + input.waitFor); i++) {
  if (i > 300) { process.stdout.write(JSON.stringify({ message: 'upper never ran' })); process.exit(1); }
  await new Promise((r) => setTimeout(r, 50));
}
process.stdout.write(JSON.stringify({ sum: input.a + input.b }));`;
const UPPER = `${READ_INPUT}
import { writeFileSync } from 'node:fs';
if (input.mark) writeFileSync(process.env.LOOP_RENDEZVOUS + '/' + input.mark, 'x');
process.stdout.write(JSON.stringify(String(input.text).toUpperCase()));`;
// A PNG signature and header, then ~480 kB: two of them do not fit one task result.
const BLOB = `${READ_INPUT}
const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d4948445200000010000000100806000000', 'hex'), Buffer.alloc(480000, input.n)]);
process.stdout.write(JSON.stringify({ png: png.toString('base64') }));`;

beforeAll(async () => {
  base = await tempBase();
  hive = await startHive();
  fake = await startFakeLlm();
  fake.setReply(model);
  tokens.acme = await hive.mintToken('acme');
  tokens.lane = await hive.mintToken('lane-loop', { shared: true });
  tokens.other = await hive.mintToken('other');
  // Its own dir: .env values count as vault items for the leak scan, and roots (under base) show in argv.
  const rendezvous = { LOOP_RENDEZVOUS: await tempBase() };
  rendezvousDir = rendezvous.LOOP_RENDEZVOUS;
  const common = { hiveUrl: hive.url, llmUrl: fake.url, env: rendezvous };
  [agents.acme, agents.lane, agents.other] = await Promise.all([
    startLoopAgent(base, 'acme', {
      ...common,
      tenant: 'acme',
      token: tokens.acme,
      shipped: ['chat'],
      skills: [
        { name: 'step-chat', metadata: { 'max-steps': '2' }, body: 'Use tools.' },
        { name: 'quick-chat', metadata: { 'timeout-seconds': '2' }, body: 'Use tools.' },
        { name: 'add', description: 'Adds a and b.', metadata: { env: 'LOOP_RENDEZVOUS' }, script: ADD },
        { name: 'slow', script: `${READ_INPUT} await new Promise((r) => setTimeout(r, 30000));` },
        { name: 'blob', script: BLOB },
      ],
    }),
    startLoopAgent(base, 'lane', {
      ...common,
      tenant: 'lane-loop',
      token: tokens.lane!,
      skills: [
        { name: 'upper', description: 'Shouts.', metadata: { env: 'LOOP_RENDEZVOUS' }, script: UPPER },
      ],
    }),
    startLoopAgent(base, 'other', {
      ...common,
      tenant: 'other',
      token: tokens.other!,
      skills: [{ name: 'secret-tool', script: `${READ_INPUT} process.stdout.write('{"secret":42}');` }],
    }),
  ]);
  await Promise.all(Object.values(agents).map((a) => a.waitState('running', 30_000)));
}, 60_000);

afterAll(async () => {
  await Promise.all(Object.values(agents).map((a) => a?.kill()));
  await fake?.close();
  await hive?.stop();
  removeRoot(base);
  removeRoot(rendezvousDir);
});

async function ask(capability: string, message: string): Promise<TaskView> {
  const id = await submit(hive.url, tokens.acme!, capability, { message });
  return waitUntil(
    async () => {
      const v = await taskView(hive.url, tokens.acme!, id);
      return ['succeeded', 'failed', 'expired'].includes(v.state) ? v : undefined;
    },
    `${capability} "${message}" to end`,
    30_000,
  );
}

interface Out {
  text?: string;
  message?: string;
  stop?: string;
  steps: { tool: string; taskId: string | null; status: string; ran: string }[];
}

describe('the agent loop across the hive', () => {
  it('calls two tools at once — one here, one only a lane serves — and answers from both', async () => {
    const view = await ask('chat', 'parallel');
    const out = view.result?.output as Out;
    expect(view.state, JSON.stringify(out)).toBe('succeeded');
    expect(out.text).toBe('answer: {"sum":42} | HIVE');
    expect(out.steps).toEqual([
      { tool: 'add', taskId: expect.any(String), status: 'ok', ms: expect.any(Number), ran: 'here' },
      { tool: 'upper', taskId: expect.any(String), status: 'ok', ms: expect.any(Number), ran: 'hive' },
    ]);
    // The lane ran upper for acme; acme's tools are the catalog minus chat itself.
    expect(agents.lane.output()).toContain(out.steps[1]!.taskId);
    expect(offered.get('parallel')).toEqual(expect.arrayContaining(['add', 'upper', 'echo', 'step-chat']));
    expect(offered.get('parallel')).not.toContain('chat');
    // Descriptions come from the skills through registration and the catalog; a lane's says so.
    expect(parallelTools.find((t) => t.function.name === 'upper')?.function).toEqual({
      name: 'upper',
      description: 'Shouts. (served by a shared lane of the hive)',
      parameters: { type: 'object', additionalProperties: true },
    });
    await agents.acme.waitLog(
      (r) => r.msg === 'tool step' && r.tool === 'upper' && r.status === 'ok',
      'step log',
    );
  });

  it("another tenant's private tool is neither offered nor callable", async () => {
    const view = await ask('chat', 'isolation');
    const out = view.result?.output as Out;
    expect(view.state).toBe('succeeded');
    expect(offered.get('isolation')).not.toContain('secret-tool');
    expect(out.steps).toEqual([
      { tool: 'secret-tool', taskId: null, status: 'refused', ms: expect.any(Number), ran: 'nowhere' },
    ]);
    expect(out.text).toMatch(/^told: \{"error":"\\"secret-tool\\" is not an available tool/);
    expect(agents.other.output()).not.toMatch(/running skill/);
  });

  it('budgets end the loop with a clear error: steps, deadline, output size', async () => {
    const steps = await ask('step-chat', 'steps');
    expect(steps.state).toBe('failed');
    expect(steps.result?.output).toMatchObject({
      stop: 'max-steps',
      message: 'skill step-chat: the model asked for 1 more tool call(s) after 2; max-steps is 2',
    });
    expect((steps.result!.output as Out).steps.map((s) => s.status)).toEqual(['ok', 'ok']);

    const late = await ask('quick-chat', 'deadline');
    expect(late.state).toBe('failed');
    expect(late.result?.output).toMatchObject({
      stop: 'deadline',
      message: expect.stringMatching(/^skill quick-chat: timed out after 2 s \(timeout-seconds\)/),
      steps: [expect.objectContaining({ tool: 'slow', status: 'cancelled' })],
    });

    const big = await ask('chat', 'size');
    expect(big.state).toBe('failed');
    expect(big.result?.output).toMatchObject({
      stop: 'output-size',
      message: expect.stringMatching(
        /^skill chat: the answer with its artifacts has \d+ bytes; at most 921600/,
      ),
    });
    // Every secret-bearing or binary part stays out of the logs: steps are logged without content.
    expect(agents.acme.output()).not.toMatch(/iVBORw0KGgo/);
  });
});
