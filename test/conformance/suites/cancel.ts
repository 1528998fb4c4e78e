// Conformance: cancelling a task (§5, `POST /v1/tasks/:id/cancel`) — a queued task ends
// `cancelled` and is never leased; a leased one too, and its holder's next heartbeat (while busy)
// names it; the holder's late result is acknowledged with the task `cancelled` and discarded; only
// the submitting tenant or the admin may cancel; a finished task cannot be, a cancelled one again
// is answered the same.
import { describe, expect, it } from 'vitest';
import { HeartbeatResponse, TaskAck, TaskAssignment, TaskView } from '../../../src/protocol/index.ts';
import type { Target } from '../client.ts';
import { call, expectError, newAgent, newTenant, okResult, poll, submit, uniq } from '../client.ts';

const cancel = (t: Target, token: string | null, taskId: string) =>
  call(t, 'POST', `/v1/tasks/${taskId}/cancel`, { token, json: {} });

const view = async (t: Target, token: string, taskId: string): Promise<TaskView> =>
  TaskView.parse((await call(t, 'GET', `/v1/tasks/${taskId}`, { token })).body);

const heartbeat = async (t: Target, token: string, agentId: string, busy: boolean) => {
  const r = await call(t, 'POST', `/v1/agents/${agentId}/heartbeat`, { token, json: { busy } });
  expect(r.status, r.text).toBe(200);
  return HeartbeatResponse.parse(r.body);
};

export function defineCancelSuite(target: () => Target): void {
  describe('cancel', () => {
    it('a queued task ends cancelled and is never leased; cancelling again answers the same', async () => {
      const t = target();
      const a = await newTenant(t);
      const cap = uniq('cap');
      const taskId = await submit(t, a.token, { capability: cap, input: 1 });
      const r = await cancel(t, a.token, taskId);
      expect(r.status, r.text).toBe(200);
      expect(TaskAck.parse(r.body)).toEqual({ taskId, state: 'cancelled' });
      expect(await view(t, a.token, taskId)).toEqual({ taskId, capability: cap, state: 'cancelled' });
      const agentId = await newAgent(t, a, [cap]);
      expect((await poll(t, a.token, agentId, 1)).status).toBe(204);
      expect(TaskAck.parse((await cancel(t, a.token, taskId)).body)).toEqual({ taskId, state: 'cancelled' });
    });

    it('a leased task: its holder’s busy heartbeat names it, and its late result is discarded', async () => {
      const t = target();
      const a = await newTenant(t);
      const cap = uniq('cap');
      const agentId = await newAgent(t, a, [cap]);
      const taskId = await submit(t, a.token, { capability: cap, input: 1 });
      expect(TaskAssignment.parse((await poll(t, a.token, agentId, 5)).body).taskId).toBe(taskId);
      expect(await heartbeat(t, a.token, agentId, true)).toEqual({ drain: false });

      expect(TaskAck.parse((await cancel(t, a.token, taskId)).body).state).toBe('cancelled');
      expect((await view(t, a.token, taskId)).state).toBe('cancelled');
      expect(await heartbeat(t, a.token, agentId, true)).toEqual({ drain: false, cancel: [taskId] });
      // An idle agent holds no task: nothing is looked up for it.
      expect(await heartbeat(t, a.token, agentId, false)).toEqual({ drain: false });

      const late = await okResult(t, a.token, taskId, agentId, 'too late');
      expect(late.status, late.text).toBe(200);
      expect(TaskAck.parse(late.body)).toEqual({ taskId, state: 'cancelled' });
      expect(await view(t, a.token, taskId)).toEqual({ taskId, capability: cap, state: 'cancelled' });
      expectError(
        await call(t, 'POST', `/v1/tasks/${taskId}/release`, { token: a.token, json: { agentId } }),
        409,
      );
      // Another agent of the tenant never held it: its result is not taken for the holder's.
      const other = await newAgent(t, a, [cap]);
      expectError(await okResult(t, a.token, taskId, other, 'not mine'), 409);
    });

    it('only the submitting tenant or the admin may cancel; unknown, finished and no token are refused', async () => {
      const t = target();
      const [a, b] = [await newTenant(t), await newTenant(t)];
      const cap = uniq('cap');
      const taskId = await submit(t, a.token, { capability: cap, input: 1 });
      expectError(await cancel(t, b.token, taskId), 403, 'taskId');
      expectError(await cancel(t, null, taskId), 401);
      expectError(await cancel(t, a.token, 'no-such-task'), 404, 'taskId');
      expect((await view(t, a.token, taskId)).state).toBe('queued');
      expect(TaskAck.parse((await cancel(t, t.adminToken, taskId)).body).state).toBe('cancelled');

      const agentId = await newAgent(t, a, [cap]);
      const done = await submit(t, a.token, { capability: cap, input: 2 });
      expect(TaskAssignment.parse((await poll(t, a.token, agentId, 5)).body).taskId).toBe(done);
      expect((await okResult(t, a.token, done, agentId, 2)).status).toBe(200);
      expectError(await cancel(t, a.token, done), 409);
      expect((await view(t, a.token, done)).state).toBe('succeeded');
    });
  });
}
