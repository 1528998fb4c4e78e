// Conformance: capability routing (§5) — a tenant's task reaches its own agents or a shared lane,
// never another tenant's private agent; results and task views stay with their tenant; work is
// spread across eligible agents.
import { describe, expect, it } from 'vitest';
import { TaskAssignment, TaskView } from '../../../src/protocol/index.ts';
import { call, expectError, newAgent, newTenant, poll, submit, type Target, uniq } from '../client.ts';

export function defineRoutingSuite(target: () => Target): void {
  describe('routing', () => {
    it('never hands a tenant’s task to another tenant’s private agent', async () => {
      const t = target();
      const [a, b] = [await newTenant(t), await newTenant(t)];
      const cap = uniq('cap');
      const agentB = await newAgent(t, b, [cap]);
      const taskId = await submit(t, a.token, { capability: cap, input: 'private' });
      expect((await poll(t, b.token, agentB, 1)).status).toBe(204);
      const agentA = await newAgent(t, a, [cap]);
      const got = await poll(t, a.token, agentA, 5);
      expect(TaskAssignment.parse(got.body).taskId).toBe(taskId);
    });

    it('a shared lane serves every tenant; the submitter reads the result', async () => {
      const t = target();
      const [lane, a, b] = [await newTenant(t, { shared: true }), await newTenant(t), await newTenant(t)];
      const cap = uniq('render');
      const laneAgent = await newAgent(t, lane, [cap]);
      const fromA = await submit(t, a.token, { capability: cap, input: 'a' });
      const fromB = await submit(t, b.token, { capability: cap, input: 'b' });
      const seen = new Map<string, string | undefined>();
      for (let i = 0; i < 2; i++) {
        const got = TaskAssignment.parse((await poll(t, lane.token, laneAgent, 5)).body);
        seen.set(got.taskId, got.tenant);
        const r = await call(t, 'POST', `/v1/tasks/${got.taskId}/result`, {
          token: lane.token,
          json: { status: 'ok', output: `done ${String(got.input)}`, agentId: laneAgent },
        });
        expect(r.status).toBe(200);
      }
      expect(seen.get(fromA)).toBe(a.name);
      expect(seen.get(fromB)).toBe(b.name);
      const view = TaskView.parse((await call(t, 'GET', `/v1/tasks/${fromA}`, { token: a.token })).body);
      expect(view.result).toEqual({ status: 'ok', output: 'done a' });
      // Results stay with their tenant: B cannot read A's task, the lane cannot either.
      expectError(await call(t, 'GET', `/v1/tasks/${fromA}`, { token: b.token }), 403);
      expectError(await call(t, 'GET', `/v1/tasks/${fromA}`, { token: lane.token }), 403);
    });

    it('only the lease holder’s tenant may post a result or release', async () => {
      const t = target();
      const [a, b] = [await newTenant(t), await newTenant(t)];
      const cap = uniq('cap');
      const agentA = await newAgent(t, a, [cap]);
      const agentB = await newAgent(t, b, [cap]);
      const taskId = await submit(t, a.token, { capability: cap, input: 1 });
      expect((await poll(t, a.token, agentA, 5)).status).toBe(200);
      expectError(
        await call(t, 'POST', `/v1/tasks/${taskId}/result`, {
          token: b.token,
          json: { status: 'ok', output: 'forged', agentId: agentB },
        }),
        403,
      );
      expectError(await call(t, 'POST', `/v1/tasks/${taskId}/release`, { token: b.token, json: {} }), 403);
      expect(
        TaskView.parse((await call(t, 'GET', `/v1/tasks/${taskId}`, { token: a.token })).body).state,
      ).toBe('leased');
    });

    it('spreads tasks across the eligible waiting agents', async () => {
      const t = target();
      const a = await newTenant(t);
      const cap = uniq('cap');
      const agents = [await newAgent(t, a, [cap]), await newAgent(t, a, [cap])];
      const polls = agents.map((id) => poll(t, a.token, id, 20));
      await new Promise((r) => setTimeout(r, 300));
      const ids = [
        await submit(t, a.token, { capability: cap, input: 1 }),
        await submit(t, a.token, { capability: cap, input: 2 }),
      ];
      const got = await Promise.all(polls);
      expect(got.map((g) => g.status)).toEqual([200, 200]);
      expect(got.map((g) => TaskAssignment.parse(g.body).taskId).sort()).toEqual([...ids].sort());
    });
  });
}
