// clawdie-agent as a real process against the real hive process when things go wrong: the hive is
// killed and restarted mid-task (the result still arrives), SIGTERM during a task (finished, or
// handed back after the drain deadline; deregistered; exit 0), drain asked by the hive, and no busy
// loop while the hive is down (CPU time of the process from /proc over a window).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type HiveProcess, startHive } from '../support/hive-process.ts';
import {
  type AgentProcess,
  API_KEY,
  adminAgents,
  adminDrain,
  cpuSeconds,
  envText,
  makeRoot,
  removeRoot,
  startAgent,
  submit,
  taskView,
  waitTask,
  waitUntil,
  writeEnv,
} from './agent-process.ts';

let hive: HiveProcess;
let token: string;
const tokens: string[] = [];
let tenantNo = 0;
const agents: AgentProcess[] = [];
const roots: string[] = [];
const outputs: string[] = [];

/** Each test gets its own tenant, so a task one test leaves queued never reaches another's agent. */
async function agentWithEnv(o: Parameters<typeof startAgent>[1] = {}): Promise<AgentProcess> {
  const tenant = `faults-${tenantNo++}`;
  token = await hive.mintToken(tenant);
  tokens.push(token);
  const r = makeRoot();
  roots.push(r);
  writeEnv(r, envText({ url: hive.url, token, tenant }));
  const a = startAgent(r, { slow: true, ...o, env: { CLAWDIE_BACKOFF_MAX_SECONDS: '1', ...o.env } });
  agents.push(a);
  await a.waitState('running');
  return a;
}

beforeAll(async () => {
  hive = await startHive({ heartbeatSeconds: 1, pollSeconds: 2, leaseSeconds: 30 });
});

afterEach(async () => {
  for (const a of agents.splice(0)) {
    await a.kill();
    outputs.push(a.output());
  }
});

afterAll(async () => {
  await hive?.stop();
  for (const r of roots) removeRoot(r);
  const all = outputs.join('\n');
  expect(all).not.toContain(API_KEY);
  for (const t of tokens) expect(all).not.toContain(t);
});

describe('clawdie-agent under faults', () => {
  it('recovers when the hive is killed and restarted mid-task, and the result is not lost', async () => {
    const a = await agentWithEnv();
    const id = await submit(hive.url, token, 'slow', { ms: 1_500 });
    await a.waitLog((l) => l.msg === 'task leased' && l.taskId === id, 'task leased');
    await hive.kill('SIGKILL');
    await a.waitLog(
      (l) => l.level === 30 && String(l.msg).includes('result post failed; retrying'),
      'result retried',
    );
    await hive.restart();
    const done = await waitTask(hive.url, token, id, 'succeeded', 20_000);
    expect(done.result).toEqual({ status: 'ok', output: { ms: 1_500 } });
    // And it keeps serving after the outage.
    const next = await submit(hive.url, token, 'echo', 'after restart');
    await waitTask(hive.url, token, next, 'succeeded', 20_000);
  });

  it('on SIGTERM finishes the running task, deregisters and exits 0', async () => {
    const a = await agentWithEnv();
    const agentId = (await a.waitState('running')).agentId!;
    const id = await submit(hive.url, token, 'slow', { ms: 800 });
    await a.waitLog((l) => l.msg === 'task leased' && l.taskId === id, 'task leased');
    a.child.kill('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect((await taskView(hive.url, token, id)).state).toBe('succeeded');
    expect(a.output()).toContain('"msg":"deregistered"');
    const listed = (await adminAgents(hive.url, hive.adminToken)).find((x) => x.agentId === agentId);
    expect(listed === undefined || listed.state === 'gone').toBe(true);
  });

  it('on SIGTERM hands back a task that outlives the drain deadline, then exits 0', async () => {
    const a = await agentWithEnv({ env: { CLAWDIE_DRAIN_SECONDS: '0.5' } });
    const id = await submit(hive.url, token, 'slow', { ms: 60_000 });
    await a.waitLog((l) => l.msg === 'task leased' && l.taskId === id, 'task leased');
    a.child.kill('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect(a.output()).toContain('task handed back to the hive');
    expect((await taskView(hive.url, token, id)).state).toBe('queued');
  });

  it('drains and exits 0 when the hive asks it to', async () => {
    const a = await agentWithEnv();
    const agentId = (await a.waitState('running')).agentId!;
    expect(await adminDrain(hive.url, hive.adminToken, agentId)).toBeLessThan(300);
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect(a.output()).toContain('hive asked to drain');
  });

  it('does not busy-loop while the hive is down', async () => {
    const a = await agentWithEnv();
    await hive.kill('SIGKILL');
    try {
      await a.waitLog(
        (l) =>
          l.msg === 'backing off before registering again' || String(l.err ?? '').includes('ECONNREFUSED'),
        'noticed the outage',
      );
      const pid = a.child.pid!;
      const before = cpuSeconds(pid);
      await new Promise((r) => setTimeout(r, 3_000));
      const used = cpuSeconds(pid) - before;
      // Generous: a busy loop burns ~3 s here; backoff (cap 1 s in this test) costs a few ms.
      expect(used).toBeLessThan(0.3);
    } finally {
      await hive.restart();
    }
    await waitUntil(async () => {
      const id = await submit(hive.url, token, 'echo', 'back');
      return (await waitTask(hive.url, token, id, 'succeeded', 15_000)) ? true : undefined;
    }, 'agent serving again');
  });
});
