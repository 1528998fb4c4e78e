// A prompt skill calling a prompt skill that calls it back is bounded by the tool-call depth
// (DESIGN §7): the skills runner in this process, two prompt skills on disk (`ping`, `pong`) that
// this agent serves itself (so each call runs here, one level deeper), and the fake provider whose
// model always calls the other one while it is offered. At MAX_TOOL_DEPTH no tools are offered and
// the model answers plainly, which ends the chain.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type FakeLlm, startFakeLlm } from '../../host-helper/demo/services/fake-llm.ts';
import { loadSkillRunner, type SkillRunner } from '../../src/skills/runner.ts';
import type { TaskContext } from '../../src/skills/task-runner.ts';

let root: string;
let fake: FakeLlm;
let runner: SkillRunner;
const KEY = 'sk-or-depth-test-0123456789';

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'clawdie-loop-depth-'));
  fake = await startFakeLlm({ apiKey: KEY });
  for (const [name, other] of [
    ['ping', 'pong'],
    ['pong', 'ping'],
  ] as const) {
    const dir = path.join(root, 'var/db/clawdie/soul/skills', name);
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'SKILL.md'),
      `---\nname: ${name}\ndescription: Calls ${other}.\nmetadata:\n  capabilities: ${name}\n---\nCall ${other}.\n`,
    );
  }
  fake.setReply((req) => {
    const offered = (req.body.tools ?? []).map((t) => t.function.name);
    const other = offered.find((n) => n === 'ping' || n === 'pong');
    const last = req.body.messages?.at(-1);
    if (last?.role === 'tool') return `back from ${other}: ${last.content}`;
    return other ? { toolCalls: [{ name: other, args: { message: 'again' } }] } : 'bottom';
  });
  runner = await loadSkillRunner({ root, env: { OPENROUTER_API_KEY: KEY, OPENROUTER_BASE_URL: fake.url } });
});

afterAll(async () => {
  await fake.close();
  await rm(root, { recursive: true, force: true });
});

it('ping → pong → ping … stops at the depth bound and unwinds', async () => {
  const env = { OPENROUTER_API_KEY: KEY, OPENROUTER_BASE_URL: fake.url };
  const context: TaskContext = {
    signal: new AbortController().signal,
    env,
    borrow: async () => ({ status: 'error', output: { message: 'nothing is borrowed here' } }),
    catalog: async () =>
      ['ping', 'pong'].map((name) => ({
        name,
        description: `the ${name} skill`,
        servedBy: ['own'],
        liveAgents: 1,
      })),
  };
  const before = fake.requests.length;
  const result = await runner.run(
    { taskId: 'depth-0', capability: 'ping', input: 'start', leaseSeconds: 60 },
    context,
  );
  expect(result).toMatchObject({
    status: 'ok',
    output: { steps: [{ tool: 'pong', status: 'ok', ran: 'here' }] },
  });
  // Depths 0-3 offer the other skill; depth 4 offers nothing and answers: 5 first turns, 4 answers back.
  const firstTurns = fake.requests.slice(before).filter((r) => r.body.messages?.at(-1)?.role === 'user');
  expect(firstTurns.map((r) => (r.body.tools ?? []).map((t) => t.function.name))).toEqual([
    ['pong'],
    ['ping'],
    ['pong'],
    ['ping'],
    [],
  ]);
  // Each level answers from the one below (a tool result is its whole output, as JSON).
  const text = (result.output as { text: string }).text;
  expect(text).toMatch(/^back from pong: \{"text":"back from ping: /);
  expect(text.match(/back from/g)).toHaveLength(4);
  expect(text).toContain('bottom');
});
