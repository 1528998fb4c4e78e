// The task side of the hive (DESIGN §5): submit (stored, or handed straight to a parked long-poll
// that may serve it, already leased), reads, and result / release posts judged against the lease
// (routing.ts); a lease whose long-poll answer never reached its agent is handed back. In: who asks
// (Principal) and a validated request body; out: the wire answer, or an HttpError. Shares the store,
// the waiters and the deadline timer with coordinator.ts (parts.ts).
import {
  DEFAULT_TASK_TTL_SECONDS,
  isTerminal,
  type ReleaseRequest,
  type SubmitTaskRequest,
  type TaskAck,
  type TaskResult,
  type TaskView,
} from '../../src/protocol/index.ts';
import { badRequest, conflict, forbidden, notFound } from './http/http-error.ts';
import { type HiveParts, type Principal, wakeRequeued } from './parts.ts';
import { judgeRelease, judgeResult, type Verdict } from './routing.ts';
import type { TaskRecord } from './store/store.ts';
import { newTaskId } from './store/task-id.ts';
import { taskView, withDepth } from './views.ts';

export class TaskDesk {
  readonly #hive: HiveParts;

  constructor(parts: HiveParts) {
    this.#hive = parts;
  }

  /** Hands back a lease whose long-poll answer never reached the agent. */
  async undelivered(agentId: string, taskId: string): Promise<void> {
    const r = await this.#hive.store.release(taskId, agentId, Date.now());
    if (r) {
      this.#hive.events.leasesEnded([r], 'undelivered');
      wakeRequeued(this.#hive.waiters, [r]);
    }
    this.#hive.log.warn({ agentId, taskId }, 'long-poll answer not delivered; task requeued');
  }

  async submit(p: Principal, body: SubmitTaskRequest): Promise<{ taskId: string; created: boolean }> {
    let tenant: string;
    if (p.kind === 'admin') {
      if (body.tenant === undefined)
        throw badRequest('the admin token must name the tenant to submit as', 'tenant');
      tenant = body.tenant;
    } else {
      if (body.tenant !== undefined && body.tenant !== p.tenant)
        throw forbidden('tenant does not match the token', 'tenant');
      tenant = p.tenant;
    }
    const now = Date.now();
    const expiresAt = now + (body.ttlSeconds ?? DEFAULT_TASK_TTL_SECONDS) * 1000;
    const inputJson = JSON.stringify(body.input ?? null);
    // A parked poll that may serve it gets the task directly: stored already leased to it.
    const taker = this.#hive.stopped()
      ? null
      : this.#hive.waiters.reserve({ tenant, capability: body.capability });
    const leaseExpires = now + this.#hive.timings.leaseSeconds * 1000;
    const taskId = newTaskId(now);
    let out: { taskId: string; created: boolean };
    try {
      out = await this.#hive.store.insertTask(
        {
          taskId,
          tenant,
          capability: body.capability,
          inputJson,
          expiresAt,
          idempotencyKey: body.idempotencyKey,
          depth: body.depth,
          lease: taker ? { agentId: taker.agentId, tenant: taker.tenant, expires: leaseExpires } : undefined,
        },
        now,
      );
    } catch (err) {
      if (taker) this.#hive.waiters.unreserve(taker);
      throw err;
    }
    if (!out.created) {
      if (taker) this.#hive.waiters.unreserve(taker);
      return out;
    }
    this.#hive.events.submitted({ tenant, capability: body.capability });
    this.#hive.deadlines.arm(expiresAt);
    if (!taker) {
      this.#hive.waiters.wake({ tenant, capability: body.capability });
      return out;
    }
    this.#hive.deadlines.arm(leaseExpires);
    this.#hive.watch.changed(taskId);
    const handed = taker.hand(
      withDepth(
        {
          taskId,
          capability: body.capability,
          // The body's own value (parsed from JSON, so the same as the stored text): no re-parse of up to 1 MiB.
          input: body.input ?? null,
          leaseSeconds: this.#hive.timings.leaseSeconds,
          tenant,
        },
        body.depth,
      ),
    );
    // The poll stopped waiting while the task was being stored (left, timed out, drained): requeue.
    if (!handed) await this.undelivered(taker.agentId, taskId);
    return out;
  }

  async getTask(p: Principal, taskId: string): Promise<TaskView> {
    const t = await this.#hive.store.getTask(taskId);
    if (!t) throw notFound('unknown task', 'taskId');
    if (p.kind === 'tenant' && p.tenant !== t.tenant)
      throw forbidden('task belongs to another tenant', 'taskId');
    return taskView(t);
  }

  async result(p: Principal, taskId: string, body: TaskResult): Promise<TaskAck> {
    const t = await this.#loadForPoster(taskId);
    const now = Date.now();
    const poster = { tenant: p.kind === 'tenant' ? p.tenant : null, agentId: body.agentId };
    const verdict = judgeResult(t, poster, now);
    this.#refuse(verdict, now);
    if (verdict.kind === 'accept') {
      const ok = await this.#hive.store.complete(
        taskId,
        t.leaseAgent!,
        body.status,
        JSON.stringify(body.output ?? null),
        now,
      );
      if (!ok) throw conflict('lease is no longer held');
      const state = body.status === 'ok' ? 'succeeded' : 'failed';
      this.#hive.events.finished(t, state);
      this.#hive.watch.changed(taskId);
      return { taskId, state };
    }
    if (verdict.kind === 'discard') this.#hive.log.info({ taskId }, 'result of a cancelled task discarded');
    return { taskId, state: t.state };
  }

  /**
   * `POST /v1/tasks/:id/cancel`, by the submitting tenant or the admin: a queued task ends
   * `cancelled` and is never leased; a leased one too, and its agent is told at its next heartbeat
   * (its late result is then discarded). Cancelling a cancelled task answers the same again; one
   * that already ended otherwise is a 409.
   */
  async cancel(p: Principal, taskId: string): Promise<TaskAck> {
    const t = await this.#loadForPoster(taskId);
    if (p.kind === 'tenant' && p.tenant !== t.tenant)
      throw forbidden('task belongs to another tenant', 'taskId');
    const done = await this.#hive.store.cancelTask(taskId, Date.now());
    if (!done) {
      // Finished (or cancelled) since the read above, or before it: say which.
      const now = (await this.#hive.store.getTask(taskId)) ?? t;
      if (now.state === 'cancelled') return { taskId, state: 'cancelled' };
      if (isTerminal(now.state)) throw conflict(`task already ended (${now.state})`);
      throw conflict(`task cannot be cancelled (${now.state})`);
    }
    this.#hive.watch.changed(taskId);
    this.#hive.events.finished(done, 'cancelled');
    this.#hive.log.info(
      { taskId, capability: done.capability, leaseAgent: done.leaseAgent ?? undefined },
      done.leaseAgent
        ? 'leased task cancelled; its agent is told at its next heartbeat'
        : 'queued task cancelled',
    );
    return { taskId, state: 'cancelled' };
  }

  async release(p: Principal, taskId: string, body: ReleaseRequest): Promise<TaskAck> {
    const t = await this.#loadForPoster(taskId);
    const now = Date.now();
    const verdict = judgeRelease(
      t,
      { tenant: p.kind === 'tenant' ? p.tenant : null, agentId: body.agentId },
      now,
    );
    this.#refuse(verdict, now);
    const r = await this.#hive.store.release(taskId, t.leaseAgent!, now);
    if (!r) throw conflict('lease is no longer held');
    this.#hive.events.leasesEnded([r], 'released');
    wakeRequeued(this.#hive.waiters, [r]);
    return { taskId, state: r.state };
  }

  async #loadForPoster(taskId: string): Promise<TaskRecord> {
    const t = await this.#hive.store.getTask(taskId);
    if (!t) throw notFound('unknown task', 'taskId');
    return t;
  }

  #refuse(v: Verdict, now: number): void {
    if (v.kind === 'forbidden') throw forbidden('the lease belongs to another tenant', 'taskId');
    if (v.kind === 'conflict') {
      // A lease found expired before the timer fired: end it now rather than at the next tick.
      this.#hive.deadlines.arm(now);
      throw conflict(v.reason);
    }
  }
}
