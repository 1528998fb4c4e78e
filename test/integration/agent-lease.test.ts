// Lease renewal end to end (DESIGN §5): real hives, real agent processes and a real script skill
// that appends `start` and `end` lines to a file given in its input (its side effect, counted here).
// - Hive S: 2 s leases. A task whose skill runs 4 s, longer than two leases, is run once by one of
//   two agents that both serve it (the other waits for work all along) and its result is accepted:
//   the holder's heartbeats (every third of the lease) renewed it.
// - The same hive, the holder behind a fault proxy: its heartbeats fail, its own view of the lease
//   runs out and it stops the skill (killed before `end`) and posts nothing.
// - Hive L: 30 s leases, 1 s heartbeats. The holder's heartbeats fail long enough that the hive marks
//   it lost and requeues the task, while the agent still thinks its lease good; the first heartbeat
//   that gets through is answered `lost` and the agent stops the skill.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../chaos/fault-proxy.ts';
import { bearerJson } from '../support/bearer-json.ts';
import { type HiveProcess, startHive } from '../support/hive-process.ts';
import {
  type AgentProcess,
  adminAgents,
  readStatus,
  removeRoot,
  submit,
  waitTask,
  waitUntil,
} from './agent-process.ts';
import { READ_INPUT, startLoopAgent, type TestSkill, tempBase } from './loop-support.ts';

const SLEEPER = `${READ_INPUT}
import { appendFileSync } from 'node:fs';
appendFileSync(input.file, 'start\\n');
await new Promise((r) => setTimeout(r, input.ms));
appendFileSync(input.file, 'end\\n');
process.stdout.write(JSON.stringify({ slept: input.ms }));`;

/** Serves `sleep`; the holder-to-be also serves `sleep-held`, which only it can take. */
const sleeper = (held: boolean): TestSkill => ({
  name: 'sleeper',
  metadata: { capabilities: held ? 'sleep,sleep-held' : 'sleep', 'timeout-seconds': '60' },
  script: SLEEPER,
});

let base: string;
let hiveS: HiveProcess;
let hiveL: HiveProcess;
let proxyS: FaultProxy;
let proxyL: FaultProxy;
let tokenS: string;
let tokenL: string;
const agents: AgentProcess[] = [];
let direct: AgentProcess;
let behindS: AgentProcess;
let behindL: AgentProcess;

const proxyTo = (hive: HiveProcess) => {
  const u = new URL(hive.url);
  return startFaultProxy({ host: u.hostname, port: Number(u.port) });
};

const lines = (file: string): string[] => {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

beforeAll(async () => {
  base = await tempBase();
  [hiveS, hiveL] = await Promise.all([
    startHive({ leaseSeconds: 2 }),
    startHive({ leaseSeconds: 30, heartbeatSeconds: 1 }),
  ]);
  [proxyS, proxyL, tokenS, tokenL] = await Promise.all([
    proxyTo(hiveS),
    proxyTo(hiveL),
    hiveS.mintToken('acme'),
    hiveL.mintToken('acme'),
  ]);
  const start = (name: string, hiveUrl: string, token: string, held: boolean) =>
    startLoopAgent(base, name, {
      tenant: 'acme',
      hiveUrl,
      token,
      // Script skills only: no model is ever asked.
      llmUrl: 'http://127.0.0.1:9/v1',
      skills: [sleeper(held)],
    });
  [direct, behindS, behindL] = await Promise.all([
    start('direct', hiveS.url, tokenS, false),
    start('behind-s', proxyS.url, tokenS, true),
    start('behind-l', proxyL.url, tokenL, true),
  ]);
  agents.push(direct, behindS, behindL);
  await Promise.all(agents.map((a) => a.waitState('running', 20_000)));
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill()));
  await Promise.all([proxyS?.close(), proxyL?.close()]);
  await Promise.all([hiveS?.stop(), hiveL?.stop()]);
  if (base) removeRoot(base);
});

describe('a task longer than its lease', () => {
  it('runs once, kept by heartbeats while another agent waits, and its result is accepted', async () => {
    const file = path.join(base, 'long.count');
    await writeFile(file, '');
    const taskId = await submit(hiveS.url, tokenS, 'sleep', { file, ms: 4_000 });
    const done = await waitTask(hiveS.url, tokenS, taskId, 'succeeded', 20_000);
    expect(done.result).toEqual({ status: 'ok', output: { slept: 4_000 } });
    expect(lines(file)).toEqual(['start', 'end']);
    for (const a of [direct, behindS]) {
      expect(a.output()).not.toContain('lease ran out');
      expect(a.output()).not.toContain('result refused');
    }
  });
});

describe('a lease taken away stops the skill', () => {
  it('heartbeats that fail: the agent’s own view of the lease runs out and the skill is stopped', async () => {
    const file = path.join(base, 'blocked.count');
    await writeFile(file, '');
    const taskId = await submit(hiveS.url, tokenS, 'sleep-held', { file, ms: 60_000 });
    await waitTask(hiveS.url, tokenS, taskId, 'leased');
    await waitUntil(() => lines(file).length > 0 || undefined, 'the skill started');
    proxyS.setMode({ kind: 'status', status: 503 });
    proxyS.drop();
    try {
      await behindS.waitLog(
        (r) => r.msg === 'the task’s lease ran out with no renewal heard; stopping it' && r.taskId === taskId,
        'the agent stops the skill',
      );
      await behindS.waitLog(
        (r) => r.msg === 'task lease lost; its result is not posted' && r.taskId === taskId,
        'no result posted',
      );
    } finally {
      proxyS.setMode({ kind: 'pass' });
    }
    // Stopped: the skill never reached its end.
    expect(lines(file)).toEqual(['start']);
    await cancel(hiveS.url, tokenS, taskId);
  });

  it('the hive requeued the task (agent lost): the next heartbeat is told `lost` and the skill is stopped', async () => {
    const file = path.join(base, 'lost.count');
    await writeFile(file, '');
    const agentId = readStatus(behindL.root)?.agentId;
    expect(agentId).toBeDefined();
    const taskId = await submit(hiveL.url, tokenL, 'sleep-held', { file, ms: 60_000 });
    await waitTask(hiveL.url, tokenL, taskId, 'leased');
    await waitUntil(() => lines(file).length > 0 || undefined, 'the skill started');
    proxyL.setMode({ kind: 'status', status: 503 });
    proxyL.drop();
    try {
      // Three missed 1 s heartbeats: the hive marks the agent lost and requeues its lease (30 s).
      await waitUntil(async () => {
        const agent = (await adminAgents(hiveL.url, hiveL.adminToken)).find((a) => a.agentId === agentId);
        return agent?.state === 'lost' || undefined;
      }, 'the hive marks the agent lost');
    } finally {
      proxyL.setMode({ kind: 'pass' });
    }
    await behindL.waitLog(
      (r) =>
        r.msg === 'the hive no longer holds this task for this agent; stopping it' && r.taskId === taskId,
      'the heartbeat answer says lost',
    );
    await behindL.waitLog(
      (r) => r.msg === 'task lease lost; its result is not posted' && r.taskId === taskId,
      'no result posted',
    );
    expect(behindL.output()).not.toContain('lease ran out with no renewal heard');
    // The first run never reached its end (the agent may since have leased the requeued task anew).
    expect(lines(file)[0]).toBe('start');
    expect(lines(file)).not.toContain('end');
    await cancel(hiveL.url, tokenL, taskId);
  });
});

async function cancel(url: string, token: string, taskId: string): Promise<void> {
  const r = await bearerJson(url, 'POST', `/v1/tasks/${taskId}/cancel`, token, {});
  expect(r.status).toBe(200);
}
