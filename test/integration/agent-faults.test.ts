// clawdie-agent as a real process against the real hive process when things go wrong: the hive is
// killed and restarted mid-task (the result still arrives), SIGTERM during a task (finished, or
// handed back after the drain deadline; deregistered; exit 0), drain asked by the hive, and no busy
// loop while the hive is down (CPU time of the process from /proc over a window).
import { describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  adminAgents,
  adminDrain,
  cpuSeconds,
  envText,
  type startAgent,
  submit,
  taskView,
  waitTask,
  waitUntil,
  writeEnv,
} from './agent-process.ts';
import { agentSuite } from './agent-suite.ts';

const suite = agentSuite({ heartbeatSeconds: 1, pollSeconds: 2, leaseSeconds: 30 });
let token: string;
let tenantNo = 0;

/** Each test gets its own tenant, so a task one test leaves queued never reaches another's agent. */
async function agentWithEnv(o: Parameters<typeof startAgent>[1] = {}): Promise<AgentProcess> {
  const tenant = `faults-${tenantNo++}`;
  token = await suite.mint(tenant);
  const r = suite.root();
  writeEnv(r, envText({ url: suite.hive.url, token, tenant }));
  const a = suite.launch(r, { slow: true, ...o, env: { CLAWDIE_BACKOFF_MAX_SECONDS: '1', ...o.env } });
  await a.waitState('running');
  return a;
}

describe('clawdie-agent under faults', () => {
  it('recovers when the hive is killed and restarted mid-task, and the result is not lost', async () => {
    const a = await agentWithEnv();
    const id = await submit(suite.hive.url, token, 'slow', { ms: 1_500 });
    await a.waitLog((l) => l.msg === 'task leased' && l.taskId === id, 'task leased');
    await suite.hive.kill('SIGKILL');
    await a.waitLog(
      (l) => l.level === 30 && String(l.msg).includes('result post failed; retrying'),
      'result retried',
    );
    await suite.hive.restart();
    const done = await waitTask(suite.hive.url, token, id, 'succeeded', 20_000);
    expect(done.result).toEqual({ status: 'ok', output: { ms: 1_500 } });
    // And it keeps serving after the outage.
    const next = await submit(suite.hive.url, token, 'echo', 'after restart');
    await waitTask(suite.hive.url, token, next, 'succeeded', 20_000);
  });

  it('on SIGTERM finishes the running task, deregisters and exits 0', async () => {
    const a = await agentWithEnv();
    const agentId = (await a.waitState('running')).agentId!;
    const id = await submit(suite.hive.url, token, 'slow', { ms: 800 });
    await a.waitLog((l) => l.msg === 'task leased' && l.taskId === id, 'task leased');
    a.child.kill('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect((await taskView(suite.hive.url, token, id)).state).toBe('succeeded');
    expect(a.output()).toContain('"msg":"deregistered"');
    const listed = (await adminAgents(suite.hive.url, suite.hive.adminToken)).find(
      (x) => x.agentId === agentId,
    );
    expect(listed === undefined || listed.state === 'gone').toBe(true);
  });

  it('on SIGTERM hands back a task that outlives the drain deadline, then exits 0', async () => {
    const a = await agentWithEnv({ env: { CLAWDIE_DRAIN_SECONDS: '0.5' } });
    const id = await submit(suite.hive.url, token, 'slow', { ms: 60_000 });
    await a.waitLog((l) => l.msg === 'task leased' && l.taskId === id, 'task leased');
    a.child.kill('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect(a.output()).toContain('task handed back to the hive');
    expect((await taskView(suite.hive.url, token, id)).state).toBe('queued');
  });

  it('drains and exits 0 when the hive asks it to', async () => {
    const a = await agentWithEnv();
    const agentId = (await a.waitState('running')).agentId!;
    expect(await adminDrain(suite.hive.url, suite.hive.adminToken, agentId)).toBeLessThan(300);
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect(a.output()).toContain('hive asked to drain');
  });

  it('does not busy-loop while the hive is down', async () => {
    const a = await agentWithEnv();
    await suite.hive.kill('SIGKILL');
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
      await suite.hive.restart();
    }
    await waitUntil(async () => {
      const id = await submit(suite.hive.url, token, 'echo', 'back');
      return (await waitTask(suite.hive.url, token, id, 'succeeded', 15_000)) ? true : undefined;
    }, 'agent serving again');
  });
});
