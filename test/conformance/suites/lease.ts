// Conformance: lease renewal by heartbeat (§5). A heartbeat's `running` names the tasks the agent
// runs; the hive renews each lease that agent holds (answer `renewed`) and reports the others as
// `lost` (another agent's, run out and re-leased, finished, unknown), touching none of them; an
// old-style heartbeat (no body, `{}`, `{busy}`) is answered as before. On a short-lease coordinator
// (the target's `shortLease`), a renewed task outlives its first lease: another agent waiting for
// the capability is not handed it, while a task leased beside it and not renewed is.
import { describe, expect, it } from 'vitest';
import { HeartbeatResponse, TaskAck, TaskAssignment } from '../../../src/protocol/index.ts';
import type { Target } from '../client.ts';
import { call, newAgent, newTenant, okResult, poll, submit, uniq } from '../client.ts';

const beat = async (t: Target, token: string, agentId: string, json?: unknown) => {
  const r = await call(t, 'POST', `/v1/agents/${agentId}/heartbeat`, {
    token,
    ...(json === undefined ? {} : { json }),
  });
  expect(r.status, r.text).toBe(200);
  return HeartbeatResponse.parse(r.body);
};

const lease = async (t: Target, token: string, agentId: string, wait: number): Promise<TaskAssignment> => {
  const r = await poll(t, token, agentId, wait);
  expect(r.status, r.text).toBe(200);
  return TaskAssignment.parse(r.body);
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function defineLeaseSuite(target: () => Target): void {
  describe('lease renewal', () => {
    it('a heartbeat naming a held task renews it; the holder’s result is then accepted', async () => {
      const t = target();
      const a = await newTenant(t);
      const cap = uniq('cap');
      const agentId = await newAgent(t, a, [cap]);
      const taskId = await submit(t, a.token, { capability: cap, input: 1 });
      expect((await lease(t, a.token, agentId, 5)).taskId).toBe(taskId);
      expect(await beat(t, a.token, agentId, { busy: true, running: [taskId] })).toEqual({
        drain: false,
        renewed: [taskId],
      });
      // Named twice: renewed once.
      expect(await beat(t, a.token, agentId, { running: [taskId, taskId] })).toEqual({
        drain: false,
        renewed: [taskId],
      });
      const r = await okResult(t, a.token, taskId, agentId, 'done');
      expect(r.status, r.text).toBe(200);
      expect(TaskAck.parse(r.body)).toEqual({ taskId, state: 'succeeded' });
      // Finished: no longer held.
      expect(await beat(t, a.token, agentId, { running: [taskId] })).toEqual({
        drain: false,
        lost: [taskId],
      });
    });

    it('another agent’s lease or an unknown task is reported lost and left alone', async () => {
      const t = target();
      const a = await newTenant(t);
      const cap = uniq('cap');
      const holder = await newAgent(t, a, [cap]);
      const other = await newAgent(t, a, [cap]);
      const taskId = await submit(t, a.token, { capability: cap, input: 1 });
      expect((await lease(t, a.token, holder, 5)).taskId).toBe(taskId);
      const unknown = uniq('task');
      expect(await beat(t, a.token, other, { busy: true, running: [taskId, unknown] })).toEqual({
        drain: false,
        lost: [taskId, unknown],
      });
      // The holder still holds it: the other agent can neither finish nor hand it back.
      expect((await okResult(t, a.token, taskId, other, 'not mine')).status).toBe(409);
      expect(await beat(t, a.token, holder, { running: [taskId] })).toEqual({
        drain: false,
        renewed: [taskId],
      });
      expect(TaskAck.parse((await okResult(t, a.token, taskId, holder, 'mine')).body).state).toBe(
        'succeeded',
      );
    });

    it('an old-style heartbeat (no body, {}, {busy}) is answered as before', async () => {
      const t = target();
      const a = await newTenant(t);
      const cap = uniq('cap');
      const agentId = await newAgent(t, a, [cap]);
      const taskId = await submit(t, a.token, { capability: cap, input: 1 });
      expect((await lease(t, a.token, agentId, 5)).taskId).toBe(taskId);
      expect(await beat(t, a.token, agentId)).toEqual({ drain: false });
      expect(await beat(t, a.token, agentId, {})).toEqual({ drain: false });
      expect(await beat(t, a.token, agentId, { busy: true })).toEqual({ drain: false });
      expect(await beat(t, a.token, agentId, { busy: false })).toEqual({ drain: false });
      const bad = await call(t, 'POST', `/v1/agents/${agentId}/heartbeat`, {
        token: a.token,
        json: { running: ['not a task id!'] },
      });
      expect(bad.status, bad.text).toBe(400);
    });

    it('on a short lease, a renewed task is not handed to a waiting agent after its first lease ends', async (ctx) => {
      const short = target().shortLease;
      if (!short) return ctx.skip();
      const a = await newTenant(short);
      const cap = uniq('cap');
      const holder = await newAgent(short, a, [cap]);
      const waiting = await newAgent(short, a, [cap]);
      const kept = await submit(short, a.token, { capability: cap, input: 'kept' });
      const dropped = await submit(short, a.token, { capability: cap, input: 'dropped' });
      const first = await lease(short, a.token, holder, 5);
      expect(first.taskId).toBe(kept);
      expect((await lease(short, a.token, holder, 5)).taskId).toBe(dropped);
      const leaseMs = first.leaseSeconds * 1000;
      expect(leaseMs).toBeLessThanOrEqual(5_000);

      // The holder names only `kept`, four times per lease, while the other agent waits.
      let beating = true;
      const answers: HeartbeatResponse[] = [];
      const beats = (async () => {
        while (beating) {
          answers.push(await beat(short, a.token, holder, { busy: true, running: [kept] }));
          await sleep(leaseMs / 4);
        }
      })();
      try {
        // `dropped` runs out and is handed over; `kept` never is, past twice its first lease.
        const started = Date.now();
        expect((await lease(short, a.token, waiting, Math.ceil((3 * leaseMs) / 1000))).taskId).toBe(dropped);
        expect(TaskAck.parse((await okResult(short, a.token, dropped, waiting, 'taken')).body).state).toBe(
          'succeeded',
        );
        // The sweep that handed `dropped` over passed `kept`'s first expiry too; one more second of
        // waiting shows no later sweep hands it over either.
        expect((await poll(short, a.token, waiting, 1)).status).toBe(204);
        expect(Date.now() - started).toBeGreaterThan(leaseMs);
        // The holder is told it lost `dropped` (taken and finished by the other agent), `kept` is renewed.
        expect(await beat(short, a.token, holder, { running: [kept, dropped] })).toEqual({
          drain: false,
          renewed: [kept],
          lost: [dropped],
        });
      } finally {
        beating = false;
        await beats;
      }
      expect(answers.length).toBeGreaterThan(4);
      for (const answer of answers) expect(answer).toEqual({ drain: false, renewed: [kept] });
      expect(TaskAck.parse((await okResult(short, a.token, kept, holder, 'once')).body).state).toBe(
        'succeeded',
      );
      expect((await okResult(short, a.token, dropped, holder, 'late')).status).toBe(409);
    });
  });
}
