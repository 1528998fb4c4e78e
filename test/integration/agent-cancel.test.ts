// A task cancelled while an agent runs it (DESIGN §5, POST /v1/tasks/:id/cancel): the real hive (1 s
// heartbeats) and a real agent process with the test runner's abortable `slow` capability. The
// agent's next heartbeat names the task, the runner's signal aborts, no result is posted, and the
// agent takes the next task at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerJson } from '../support/bearer-json.ts';
import { type HiveProcess, startHive } from '../support/hive-process.ts';
import {
  type AgentProcess,
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
let agent: AgentProcess;
let token: string;
let root: string;

beforeAll(async () => {
  hive = await startHive({ heartbeatSeconds: 1 });
  token = await hive.mintToken('acme');
  root = makeRoot();
  writeEnv(root, envText({ url: hive.url, token }));
  agent = startAgent(root, { slow: true });
  await agent.waitState('running', 20_000);
}, 30_000);

afterAll(async () => {
  await agent?.kill();
  await hive?.stop();
  if (root) removeRoot(root);
});

describe('a leased task cancelled by its submitter', () => {
  it('is stopped by its agent at the next heartbeat; its result is never posted', async () => {
    const taskId = await submit(hive.url, token, 'slow', { ms: 60_000 });
    await waitTask(hive.url, token, taskId, 'leased');
    const r = await bearerJson<{ taskId: string; state: string }>(
      hive.url,
      'POST',
      `/v1/tasks/${taskId}/cancel`,
      token,
      {},
    );
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ taskId, state: 'cancelled' });
    await agent.waitLog(
      (rec) => rec.msg === 'task cancelled by its submitter; stopping it' && rec.taskId === taskId,
      'the heartbeat names the task',
    );
    await agent.waitLog(
      (rec) => rec.msg === 'task cancelled; its result is not posted' && rec.taskId === taskId,
      'the runner stopped and nothing was posted',
    );
    expect(agent.output()).not.toContain('result acknowledged');
    expect(await taskView(hive.url, token, taskId)).toEqual({
      taskId,
      capability: 'slow',
      state: 'cancelled',
    });
    // Free again: the next task is taken and answered.
    const next = await submit(hive.url, token, 'echo', { after: 'cancel' });
    const done = await waitUntil(async () => {
      const v = await taskView(hive.url, token, next);
      return v.state === 'succeeded' ? v : undefined;
    }, 'the next task');
    expect(done.result).toEqual({ status: 'ok', output: { after: 'cancel' } });
  });
});
