// State survives the coordinator: after kill -9 and a restart on the same database, queued tasks
// are still queued, leased tasks keep their lease (and its holder can finish them), every task
// acknowledged with 201 exists, idempotency keys still match, and nothing is delivered twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskAck, TaskAssignment, TaskView } from '../../src/protocol/index.ts';
import {
  call,
  newAgent,
  newTenant,
  okResult,
  poll,
  registration,
  submit,
  type Target,
  uniq,
} from '../conformance/client.ts';
import { type HiveProcess, startHive } from '../support/hive-process.ts';

describe('restart survival', () => {
  let hive: HiveProcess;
  let t: Target;
  beforeAll(async () => {
    hive = await startHive({ leaseSeconds: 120 });
    t = { url: hive.url, adminToken: hive.adminToken };
  });
  afterAll(() => hive?.stop());

  it('keeps queued and leased tasks, tokens and agents across kill -9', async () => {
    const a = await newTenant(t);
    const [work, later] = [uniq('work'), uniq('later')];
    const agentId = await newAgent(t, a, [work]);
    const leasedId = await submit(t, a.token, { capability: work, input: { n: 'leased' } });
    expect(TaskAssignment.parse((await poll(t, a.token, agentId, 5)).body).taskId).toBe(leasedId);
    const queuedId = await submit(t, a.token, { capability: later, input: { n: 'queued' } });
    const key = uniq('key');
    const keyed = await submit(t, a.token, { capability: later, input: 1, idempotencyKey: key });
    const burst: string[] = [];
    for (let i = 0; i < 20; i++) burst.push(await submit(t, a.token, { capability: later, input: i }));

    expect(await hive.kill('SIGKILL')).toBe('SIGKILL');
    await hive.restart();

    const view = async (id: string) =>
      TaskView.parse((await call(t, 'GET', `/v1/tasks/${id}`, { token: a.token })).body);
    expect((await view(leasedId)).state).toBe('leased');
    expect((await view(queuedId)).state).toBe('queued');
    for (const id of burst) expect((await view(id)).state).toBe('queued');
    const again = await call(t, 'POST', '/v1/tasks', {
      token: a.token,
      json: { capability: later, input: 1, idempotencyKey: key },
    });
    expect(again.status).toBe(200);
    expect((again.body as { taskId: string }).taskId).toBe(keyed);

    // The leased task is not handed out again; its holder still owns the lease and finishes it.
    expect((await poll(t, a.token, agentId, 0)).status).toBe(204);
    const done = await okResult(t, a.token, leasedId, agentId, 'after restart');
    expect(TaskAck.parse(done.body).state).toBe('succeeded');

    // The queued tasks go out once the agent serves their capability, each exactly once.
    const re = await call(t, 'POST', '/v1/agents', {
      token: a.token,
      json: registration(a.name, agentId, [work, later]),
    });
    expect(re.status).toBe(200);
    const seen = new Set<string>();
    for (;;) {
      const r = await poll(t, a.token, agentId, 0);
      if (r.status === 204) break;
      const task = TaskAssignment.parse(r.body);
      expect(seen.has(task.taskId)).toBe(false);
      seen.add(task.taskId);
      await call(t, 'POST', `/v1/tasks/${task.taskId}/result`, {
        token: a.token,
        json: { status: 'ok', output: null },
      });
    }
    expect(seen).toEqual(new Set([queuedId, keyed, ...burst]));
  });

  it('a graceful restart (SIGTERM) exits 0 and keeps the state too', async () => {
    const a = await newTenant(t);
    const id = await submit(t, a.token, { capability: uniq('cap'), input: 1 });
    expect(await hive.kill('SIGTERM')).toBe(0);
    await hive.restart();
    expect((await call(t, 'GET', `/v1/tasks/${id}`, { token: a.token })).status).toBe(200);
  });
});
