// Reference coordinator behaviour that depends on time, run with short intervals: lease expiry and
// requeue, TTL expiry, lost agents (3 missed heartbeats) and their revival, drain, deregistration,
// a long-poll whose client went away, and a token revoked while its agent waits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminAgentsResponse, TaskAck, TaskAssignment, TaskView } from '../../src/protocol/index.ts';
import {
  call,
  expectError,
  newAgent,
  newTenant,
  okResult,
  poll,
  submit,
  type Target,
  uniq,
} from '../conformance/client.ts';
import { type HiveProcess, startHive } from '../support/hive-process.ts';

/** Re-checks `probe` until it holds (bounded); state changes here are driven by the hive's timers. */
async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, seconds = 10): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const stateOf = async (t: Target, token: string, taskId: string): Promise<string> =>
  TaskView.parse((await call(t, 'GET', `/v1/tasks/${taskId}`, { token })).body).state;

describe('leases and TTLs (lease 1 s)', () => {
  let hive: HiveProcess;
  let t: Target;
  beforeAll(async () => {
    hive = await startHive({ leaseSeconds: 1 });
    t = { url: hive.url, adminToken: hive.adminToken };
  });
  afterAll(() => hive?.stop());

  it('an unanswered lease expires and the task is requeued; the late result is a 409', async () => {
    const a = await newTenant(t);
    const cap = uniq('cap');
    const [slow, other] = [await newAgent(t, a, [cap]), await newAgent(t, a, [cap])];
    const taskId = await submit(t, a.token, { capability: cap, input: 1 });
    const first = TaskAssignment.parse((await poll(t, a.token, slow, 5)).body);
    expect(first).toMatchObject({ taskId, leaseSeconds: 1 });
    // The other agent is woken by the requeue (no new submit) and leases it.
    const second = await poll(t, a.token, other, 10);
    expect(TaskAssignment.parse(second.body).taskId).toBe(taskId);
    expectError(await okResult(t, a.token, taskId, slow, 1), 409);
    const ok = await okResult(t, a.token, taskId, other, 2);
    expect(TaskAck.parse(ok.body).state).toBe('succeeded');
  });

  it('a queued task whose TTL ends is expired and never leased', async () => {
    const a = await newTenant(t);
    const cap = uniq('cap');
    const taskId = await submit(t, a.token, { capability: cap, input: 1, ttlSeconds: 1 });
    expect(
      await eventually(
        () => stateOf(t, a.token, taskId),
        (s) => s === 'expired',
      ),
    ).toBe('expired');
    const late = await newAgent(t, a, [cap]);
    expect((await poll(t, a.token, late, 0)).status).toBe(204);
  });

  it('a lease that outlives the TTL ends the task as expired, not requeued', async () => {
    const a = await newTenant(t);
    const cap = uniq('cap');
    const agentId = await newAgent(t, a, [cap]);
    const taskId = await submit(t, a.token, { capability: cap, input: 1, ttlSeconds: 1 });
    expect((await poll(t, a.token, agentId, 5)).status).toBe(200);
    expect(
      await eventually(
        () => stateOf(t, a.token, taskId),
        (s) => s === 'expired',
      ),
    ).toBe('expired');
  });

  it('a long-poll whose client left is not handed the task', async () => {
    const a = await newTenant(t);
    const cap = uniq('cap');
    const [gone, live] = [await newAgent(t, a, [cap]), await newAgent(t, a, [cap])];
    const ac = new AbortController();
    const abandoned = fetch(`${t.url}/v1/agents/${gone}/tasks?wait=30`, {
      headers: { authorization: `Bearer ${a.token}` },
      signal: ac.signal,
    }).catch(() => null);
    await new Promise((r) => setTimeout(r, 200));
    ac.abort();
    await abandoned;
    await new Promise((r) => setTimeout(r, 200));
    const taskId = await submit(t, a.token, { capability: cap, input: 1 });
    const got = await poll(t, a.token, live, 5);
    expect(TaskAssignment.parse(got.body).taskId).toBe(taskId);
  });

  it('revoking a tenant’s token answers its waiting long-poll with 401', async () => {
    const a = await newTenant(t);
    const agentId = await newAgent(t, a, [uniq('cap')]);
    const waiting = poll(t, a.token, agentId, 30);
    await new Promise((r) => setTimeout(r, 200));
    expect(
      (await call(t, 'DELETE', `/v1/admin/tenants/${a.name}/token`, { token: t.adminToken })).status,
    ).toBe(204);
    expectError(await waiting, 401);
    expectError(await call(t, 'DELETE', `/v1/admin/tenants/${a.name}/token`, { token: t.adminToken }), 404);
  });
});

describe('agent liveness (heartbeat 1 s, lease 60 s)', () => {
  let hive: HiveProcess;
  let t: Target;
  beforeAll(async () => {
    hive = await startHive({ heartbeatSeconds: 1, leaseSeconds: 60 });
    t = { url: hive.url, adminToken: hive.adminToken };
  });
  afterAll(() => hive?.stop());

  const agentState = async (agentId: string): Promise<string | undefined> => {
    const r = AdminAgentsResponse.parse(
      (await call(t, 'GET', '/v1/admin/agents', { token: t.adminToken })).body,
    );
    return r.agents.find((x) => x.agentId === agentId)?.state;
  };

  it('an agent missing 3 heartbeats is lost and its lease released; a heartbeat revives it', async () => {
    const a = await newTenant(t);
    const cap = uniq('cap');
    const silent = await newAgent(t, a, [cap]);
    const taskId = await submit(t, a.token, { capability: cap, input: 1 });
    expect((await poll(t, a.token, silent, 5)).status).toBe(200);
    expect(
      await eventually(
        () => agentState(silent),
        (s) => s === 'lost',
      ),
    ).toBe('lost');
    expect(await stateOf(t, a.token, taskId)).toBe('queued');
    expectError(await okResult(t, a.token, taskId, silent, 1), 409);
    const hb = await call(t, 'POST', `/v1/agents/${silent}/heartbeat`, { token: a.token, json: {} });
    expect(hb.body).toEqual({ drain: false });
    expect(await agentState(silent)).toBe('live');
    expect(TaskAssignment.parse((await poll(t, a.token, silent, 5)).body).taskId).toBe(taskId);
  });

  it('deregistering requeues the agent’s leases', async () => {
    const a = await newTenant(t);
    const cap = uniq('cap');
    const [leaving, staying] = [await newAgent(t, a, [cap]), await newAgent(t, a, [cap])];
    const taskId = await submit(t, a.token, { capability: cap, input: 1, ttlSeconds: 60 });
    expect((await poll(t, a.token, leaving, 5)).status).toBe(200);
    expect((await call(t, 'DELETE', `/v1/agents/${leaving}`, { token: a.token })).status).toBe(204);
    expect(TaskAssignment.parse((await poll(t, a.token, staying, 5)).body).taskId).toBe(taskId);
  });

  it('drain: heartbeats answer drain=true, long-polls end with 204 and get no work; re-registering clears it', async () => {
    const a = await newTenant(t);
    const cap = uniq('cap');
    const agentId = await newAgent(t, a, [cap]);
    const waiting = poll(t, a.token, agentId, 30);
    await new Promise((r) => setTimeout(r, 200));
    const d = await call(t, 'POST', `/v1/admin/agents/${agentId}/drain`, { token: t.adminToken });
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ agentId, state: 'draining' });
    expect((await waiting).status).toBe(204);
    const hb = await call(t, 'POST', `/v1/agents/${agentId}/heartbeat`, { token: a.token, json: {} });
    expect(hb.body).toEqual({ drain: true });
    await submit(t, a.token, { capability: cap, input: 1 });
    expect((await poll(t, a.token, agentId, 1)).status).toBe(204);
    expectError(await call(t, 'POST', `/v1/admin/agents/${agentId}/drain`, { token: a.token }), 403);
    expectError(
      await call(t, 'POST', `/v1/admin/agents/${uniq('ghost')}/drain`, { token: t.adminToken }),
      404,
    );
    const again = await call(t, 'POST', '/v1/agents', {
      token: a.token,
      json: {
        agentId,
        tenant: a.name,
        capabilities: [cap],
        identityHash: 'b'.repeat(64),
        version: '2',
        os: 'x',
      },
    });
    expect(again.status).toBe(200);
    expect((await poll(t, a.token, agentId, 5)).status).toBe(200);
    await call(t, 'DELETE', `/v1/agents/${agentId}`, { token: a.token });
  });
});
