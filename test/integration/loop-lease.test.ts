// A lost lease during a tool loop does not run a step twice (DESIGN §7): the hive (leases of 3 s),
// two acme agents serving chat and a lane serving `count` (which appends a line to a file: its
// effect), all real processes, and the fake provider. The agent running the chat has its tool step
// done and is killed while its model is still answering; the chat's lease runs out, the other agent
// leases the chat again and re-runs the loop from the start: its identical step carries the same
// idempotency key, so the hive hands back the first task and its result — `count` ran once.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type FakeLlm,
  type RecordedRequest,
  startFakeLlm,
} from '../../host-helper/demo/services/fake-llm.ts';
import { type HiveProcess, startHive } from '../support/hive-process.ts';
import { type AgentProcess, removeRoot, submit, taskView, waitUntil } from './agent-process.ts';
import { READ_INPUT, startLoopAgent, tempBase } from './loop-support.ts';

let hive: HiveProcess;
let fake: FakeLlm;
let base: string;
const agents = new Map<string, AgentProcess>();
let token: string;
/** Settles with the base path of the first agent whose model saw the tool's result. */
let firstAfterTool: (agentPath: string) => void;
const sawToolResult = new Promise<string>((resolve) => {
  firstAfterTool = resolve;
});

const COUNT = `${READ_INPUT}
import { appendFileSync, readFileSync } from 'node:fs';
appendFileSync(process.env.LOOP_COUNT_FILE, 'ran\\n');
process.stdout.write(JSON.stringify({ count: readFileSync(process.env.LOOP_COUNT_FILE, 'utf8').split('\\n').length - 1 }));`;

let held = false;
function model(req: RecordedRequest) {
  const afterTool = req.body.messages?.at(-1)?.role === 'tool';
  if (!afterTool) return { toolCalls: [{ name: 'count', args: { what: 'visits' } }] };
  if (!held) {
    // The first agent to get here is killed while this answer is pending.
    held = true;
    firstAfterTool(req.path.split('/')[1]!);
    return { text: 'never delivered', delayMs: 60_000 };
  }
  return `counted: ${req.body.messages?.at(-1)?.content}`;
}

beforeAll(async () => {
  base = await tempBase();
  hive = await startHive({ leaseSeconds: 3 });
  fake = await startFakeLlm();
  fake.setReply(model);
  token = await hive.mintToken('acme');
  const laneToken = await hive.mintToken('lane-count', { shared: true });
  const env = { LOOP_COUNT_FILE: path.join(base, 'count.txt') };
  const llm = (name: string) => fake.url.replace(/\/v1$/, `/${name}/v1`);
  const started = await Promise.all([
    ...['a1', 'a2'].map((name) =>
      startLoopAgent(base, name, {
        tenant: 'acme',
        hiveUrl: hive.url,
        token,
        llmUrl: llm(name),
        shipped: ['chat'],
      }),
    ),
    startLoopAgent(base, 'lane', {
      tenant: 'lane-count',
      hiveUrl: hive.url,
      token: laneToken,
      llmUrl: llm('lane'),
      env,
      skills: [{ name: 'count', metadata: { env: 'LOOP_COUNT_FILE' }, script: COUNT }],
    }),
  ]);
  for (const [i, name] of ['a1', 'a2', 'lane'].entries()) agents.set(name, started[i]!);
  await Promise.all(started.map((a) => a.waitState('running', 30_000)));
}, 60_000);

afterAll(async () => {
  await Promise.all([...agents.values()].map((a) => a.kill()));
  await fake?.close();
  await hive?.stop();
  removeRoot(base);
});

it('a chat re-run after its lease was lost finds its tool step done instead of running it again', async () => {
  const chatId = await submit(hive.url, token, 'chat', { message: 'count the visits' });
  const first = await sawToolResult;
  const victim = agents.get(first)!;
  const stepLog = await victim.waitLog((r) => r.msg === 'tool step' && r.tool === 'count', 'the first step');
  await victim.kill();

  const view = await waitUntil(
    async () => {
      const v = await taskView(hive.url, token, chatId);
      return v.state === 'succeeded' || v.state === 'failed' ? v : undefined;
    },
    'the chat to end on the other agent',
    30_000,
  );
  const out = view.result?.output as { text: string; steps: { taskId: string; status: string }[] };
  expect(view.state, JSON.stringify(out)).toBe('succeeded');
  expect(out.text).toBe('counted: {"count":1}');
  // Same hive task for the step, on both runs; the tool's effect happened once.
  expect(out.steps).toEqual([
    expect.objectContaining({ taskId: stepLog.stepTaskId, status: 'ok', ran: 'hive' }),
  ]);
  expect(readFileSync(path.join(base, 'count.txt'), 'utf8')).toBe('ran\n');
  const survivor = agents.get(first === 'a1' ? 'a2' : 'a1')!;
  await survivor.waitLog(
    (r) => r.msg === 'tool step' && r.stepTaskId === stepLog.stepTaskId,
    'the re-run step',
  );
}, 60_000);
