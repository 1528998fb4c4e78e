// Conformance: the task lifecycle — submit, lease by long-poll, result (idempotent, first result
// kept), release and the 409 of a lease no longer held, idempotency keys, and who may submit.
import { describe, expect, it } from 'vitest';
import { MAX_TOOL_DEPTH, TaskAck, TaskAssignment, TaskView } from '../../../src/protocol/index.ts';
import type { Target } from '../client.ts';
import { call, expectError, newAgent, newTenant, okResult, poll, submit, uniq } from '../client.ts';

export function defineTaskSuite(target: () => Target): void {
  describe('tasks', () => {
    it('submit → lease → result → read back', async () => {
      const t = target();
      const a = await newTenant(t);
      const cap = uniq('cap');
      const agentId = await newAgent(t, a, [cap]);
      const sub = await call(t, 'POST', '/v1/tasks', {
        token: a.token,
        json: { capability: cap, input: { n: 1 } },
      });
      expect(sub.status).toBe(201);
      const taskId = (sub.body as { taskId: string }).taskId;
      expect(
        TaskView.parse((await call(t, 'GET', `/v1/tasks/${taskId}`, { token: a.token })).body).state,
      ).toBe('queued');

      const got = await poll(t, a.token, agentId, 5);
      expect(got.status).toBe(200);
      const task = TaskAssignment.parse(got.body);
      expect(task).toMatchObject({ taskId, capability: cap, input: { n: 1 } });
      expect(task.leaseSeconds).toBeGreaterThan(0);
      expect(
        TaskView.parse((await call(t, 'GET', `/v1/tasks/${taskId}`, { token: a.token })).body).state,
      ).toBe('leased');

      const res = await okResult(t, a.token, taskId, agentId, { echoed: 1 });
      expect(res.status).toBe(200);
      expect(TaskAck.parse(res.body)).toEqual({ taskId, state: 'succeeded' });
      // Idempotent: the same post again is answered the same, and the first result is kept.
      const again = await call(t, 'POST', `/v1/tasks/${taskId}/result`, {
        token: a.token,
        json: { status: 'error', output: 'second' },
      });
      expect(again.status).toBe(200);
      expect(TaskAck.parse(again.body).state).toBe('succeeded');
      const view = TaskView.parse((await call(t, 'GET', `/v1/tasks/${taskId}`, { token: a.token })).body);
      expect(view).toEqual({
        taskId,
        capability: cap,
        state: 'succeeded',
        result: { status: 'ok', output: { echoed: 1 } },
      });
    });

    it('a task carries its tool-call depth to the agent; deeper than the maximum is refused', async () => {
      const t = target();
      const a = await newTenant(t);
      const cap = uniq('cap');
      const agentId = await newAgent(t, a, [cap]);
      // Queued first, then leased by a poll (the stored depth).
      const queued = await submit(t, a.token, { capability: cap, input: 1, depth: MAX_TOOL_DEPTH });
      const first = TaskAssignment.parse((await poll(t, a.token, agentId, 5)).body);
      expect(first).toMatchObject({ taskId: queued, depth: MAX_TOOL_DEPTH });
      // Handed straight to a poll already waiting (the submit's depth).
      const waiting = poll(t, a.token, agentId, 10);
      await new Promise((r) => setTimeout(r, 300));
      const handed = await submit(t, a.token, { capability: cap, input: 2, depth: 1 });
      expect(TaskAssignment.parse((await waiting).body)).toMatchObject({ taskId: handed, depth: 1 });
      // No depth: none in the assignment (0).
      await submit(t, a.token, { capability: cap, input: 3 });
      expect(TaskAssignment.parse((await poll(t, a.token, agentId, 5)).body).depth ?? 0).toBe(0);
      const deep = await call(t, 'POST', '/v1/tasks', {
        token: a.token,
        json: { capability: cap, input: 4, depth: MAX_TOOL_DEPTH + 1 },
      });
      expectError(deep, 400, 'depth');
    });

    it('an error result fails the task', async () => {
      const t = target();
      const a = await newTenant(t);
      const cap = uniq('cap');
      const agentId = await newAgent(t, a, [cap]);
      const taskId = await submit(t, a.token, { capability: cap, input: null });
      expect((await poll(t, a.token, agentId, 5)).status).toBe(200);
      const r = await call(t, 'POST', `/v1/tasks/${taskId}/result`, {
        token: a.token,
        json: { status: 'error', output: 'boom' },
      });
      expect(TaskAck.parse(r.body).state).toBe('failed');
      const view = TaskView.parse((await call(t, 'GET', `/v1/tasks/${taskId}`, { token: a.token })).body);
      expect(view.result).toEqual({ status: 'error', output: 'boom' });
    });

    it('a long-poll already waiting is woken by a submit', async () => {
      const t = target();
      const a = await newTenant(t);
      const cap = uniq('cap');
      const agentId = await newAgent(t, a, [cap]);
      const waiting = poll(t, a.token, agentId, 20);
      // Give the poll time to arrive; the answer must come from the wake, not the timeout.
      await new Promise((r) => setTimeout(r, 300));
      const taskId = await submit(t, a.token, { capability: cap, input: 'wake' });
      const got = await waiting;
      expect(got.status).toBe(200);
      expect(TaskAssignment.parse(got.body).taskId).toBe(taskId);
    });

    it('release hands the task back; the old holder’s result is then a 409', async () => {
      const t = target();
      const a = await newTenant(t);
      const cap = uniq('cap');
      const [one, two] = [await newAgent(t, a, [cap]), await newAgent(t, a, [cap])];
      const taskId = await submit(t, a.token, { capability: cap, input: 1 });
      const first = await poll(t, a.token, one, 5);
      expect(TaskAssignment.parse(first.body).taskId).toBe(taskId);
      const rel = await call(t, 'POST', `/v1/tasks/${taskId}/release`, {
        token: a.token,
        json: { agentId: one },
      });
      expect(rel.status).toBe(200);
      expect(TaskAck.parse(rel.body)).toEqual({ taskId, state: 'queued' });
      const second = await poll(t, a.token, two, 5);
      expect(TaskAssignment.parse(second.body).taskId).toBe(taskId);
      expectError(await okResult(t, a.token, taskId, one, 1), 409);
      expectError(
        await call(t, 'POST', `/v1/tasks/${taskId}/release`, { token: a.token, json: { agentId: one } }),
        409,
      );
      const ok = await okResult(t, a.token, taskId, two, 2);
      expect(TaskAck.parse(ok.body).state).toBe('succeeded');
    });

    it('an idempotency key returns the first task, per tenant', async () => {
      const t = target();
      const [a, b] = [await newTenant(t), await newTenant(t)];
      const cap = uniq('cap');
      const key = uniq('key');
      const first = await call(t, 'POST', '/v1/tasks', {
        token: a.token,
        json: { capability: cap, input: 1, idempotencyKey: key },
      });
      expect(first.status).toBe(201);
      const again = await call(t, 'POST', '/v1/tasks', {
        token: a.token,
        json: { capability: cap, input: 1, idempotencyKey: key },
      });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      const other = await submit(t, b.token, { capability: cap, input: 1, idempotencyKey: key });
      expect(other).not.toBe((first.body as { taskId: string }).taskId);
    });

    it('the admin submits as a named tenant; a tenant token cannot submit as another tenant', async () => {
      const t = target();
      const [a, b] = [await newTenant(t), await newTenant(t)];
      const cap = uniq('cap');
      expectError(
        await call(t, 'POST', '/v1/tasks', { token: t.adminToken, json: { capability: cap, input: 1 } }),
        400,
        'tenant',
      );
      const taskId = await submit(t, t.adminToken, { capability: cap, input: 1, tenant: a.name });
      expect((await call(t, 'GET', `/v1/tasks/${taskId}`, { token: a.token })).status).toBe(200);
      expect((await call(t, 'GET', `/v1/tasks/${taskId}`, { token: t.adminToken })).status).toBe(200);
      expectError(
        await call(t, 'POST', '/v1/tasks', {
          token: a.token,
          json: { capability: cap, input: 1, tenant: b.name },
        }),
        403,
        'tenant',
      );
      expect(
        (
          await call(t, 'POST', '/v1/tasks', {
            token: a.token,
            json: { capability: cap, input: 1, tenant: a.name },
          })
        ).status,
      ).toBe(201);
    });

    it('a task with no capable agent stays queued until one registers', async () => {
      const t = target();
      const a = await newTenant(t);
      const cap = uniq('cap');
      const taskId = await submit(t, a.token, { capability: cap, input: 'later' });
      await newAgent(t, a, ['echo']);
      expect(
        TaskView.parse((await call(t, 'GET', `/v1/tasks/${taskId}`, { token: a.token })).body).state,
      ).toBe('queued');
      const late = await newAgent(t, a, [cap]);
      const got = await poll(t, a.token, late, 5);
      expect(TaskAssignment.parse(got.body).taskId).toBe(taskId);
    });
  });
}
