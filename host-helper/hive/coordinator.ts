// The hive's behaviour (DESIGN §5) between the HTTP shell and the store: authentication, agent
// lifecycle, submit / long-poll / result / release, and one timer that ends leases, TTLs and lost
// agents exactly when the earliest of them is due (no polling loop; idle costs nothing but that timer).
import type { Logger } from '../../src/log.ts';
import {
  type AgentView,
  DEFAULT_TASK_TTL_SECONDS,
  type RegisterRequest,
  type RegisterResponse,
  type ReleaseRequest,
  type SubmitTaskRequest,
  type TaskAck,
  type TaskAssignment,
  type TaskResult,
  type TaskView,
} from '../../src/protocol/index.ts';
import { DeadlineTimer } from './deadline-timer.ts';
import { badRequest, conflict, forbidden, HttpError, notFound, unauthorized } from './http-error.ts';
import { earliest, judgeRelease, judgeResult, lostAfterMs, lostCutoff, type Verdict } from './routing.ts';
import type { AgentRecord, HiveStore, Requeued, StoreEvent, TaskRecord } from './store.ts';
import { newTaskId } from './task-id.ts';
import { hashToken, mintToken, sameHash } from './tokens.ts';
import { Waiter, WaiterRegistry } from './waiters.ts';

export interface HiveTimings {
  heartbeatSeconds: number;
  pollSeconds: number;
  leaseSeconds: number;
}

/** Who a request speaks for: the host (admin token) or one tenant (its token). */
export type Principal = { kind: 'admin' } | { kind: 'tenant'; tenant: string; shared: boolean };

export class Coordinator {
  readonly #store: HiveStore;
  readonly #timings: HiveTimings;
  readonly #adminHash: Buffer;
  readonly #log: Logger;
  readonly #waiters = new WaiterRegistry();
  readonly #startedAt = Date.now();
  readonly #deadlines = new DeadlineTimer(
    () => this.#sweep(),
    (err) => this.#log.error({ err }, 'deadline sweep failed; retrying in 1 s'),
  );
  #stopped = false;
  #unsubscribe: (() => void) | null = null;

  constructor(store: HiveStore, timings: HiveTimings, adminToken: string, log: Logger) {
    this.#store = store;
    this.#timings = timings;
    this.#adminHash = hashToken(adminToken);
    this.#log = log;
  }

  get timings(): HiveTimings {
    return this.#timings;
  }

  /** Ends leases that ran out while the coordinator was down and arms the deadline timer. */
  async start(): Promise<void> {
    this.#unsubscribe = this.#store.subscribe?.((e) => this.#onStoreEvent(e)) ?? null;
    await this.#deadlines.fire();
  }

  /** Answers every open long-poll (204) and disarms the timer; the store is closed by the caller. */
  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#deadlines.stop();
    this.#waiters.end(() => true, 'stop');
  }

  /** Another replica sharing the store changed something (a store without `subscribe` never calls). */
  #onStoreEvent(e: StoreEvent): void {
    if (this.#stopped) return;
    const now = Date.now();
    if (e.kind === 'task') {
      if (e.queued) this.#waiters.wake(e);
      // Whoever leases it may be gone before the lease ends: look again within one lease period.
      this.#deadlines.arm(Math.min(e.deadline, now + this.#timings.leaseSeconds * 1000));
    } else if (e.kind === 'agent') {
      if (e.live) this.#deadlines.arm(now + lostAfterMs(this.#timings.heartbeatSeconds));
      else this.#waiters.end((w) => w.agentId === e.agentId, 'stop');
    } else if (e.kind === 'tenant') {
      // The poll re-authenticates on its next request: 401 if revoked, served if re-minted.
      this.#waiters.end((w) => w.tenant === e.tenant, 'stop');
    } else {
      this.#waiters.end(() => true, 'wake');
      void this.#deadlines.fire();
    }
  }

  async authenticate(token: string | null): Promise<Principal> {
    if (token === null) throw unauthorized();
    const hash = hashToken(token);
    if (sameHash(hash, this.#adminHash)) return { kind: 'admin' };
    const t = await this.#store.tenantByTokenHash(hash);
    if (!t || !sameHash(t.tokenHash, hash)) throw unauthorized();
    return { kind: 'tenant', tenant: t.tenant, shared: t.shared };
  }

  // ---- admin ----

  async mintTenantToken(tenant: string, shared: boolean): Promise<string> {
    const token = mintToken();
    await this.#store.setTenantToken(tenant, hashToken(token), shared, Date.now());
    // Polls authorized by the previous token must not be handed work any more.
    this.#waiters.end((w) => w.tenant === tenant, 'revoked');
    this.#log.info({ tenant, shared }, 'tenant token minted');
    return token;
  }

  async revokeTenantToken(tenant: string): Promise<void> {
    if (!(await this.#store.revokeTenantToken(tenant, Date.now()))) {
      throw notFound('tenant has no token', 'tenant');
    }
    this.#waiters.end((w) => w.tenant === tenant, 'revoked');
    this.#log.info({ tenant }, 'tenant token revoked');
  }

  async listAgents(): Promise<AgentView[]> {
    return (await this.#store.listAgents()).map(agentView);
  }

  async drainAgent(agentId: string): Promise<AgentView> {
    const agent = await this.#store.getAgent(agentId);
    if (!agent || agent.state === 'gone') throw notFound('unknown agent', 'agentId');
    await this.#store.setAgentState(agentId, 'draining');
    this.#waiters.end((w) => w.agentId === agentId, 'stop');
    this.#log.info({ agentId }, 'agent asked to drain');
    return agentView({ ...agent, state: 'draining' });
  }

  // ---- agents ----

  async register(p: Principal, body: RegisterRequest): Promise<RegisterResponse> {
    if (p.kind === 'tenant' && body.tenant !== p.tenant)
      throw forbidden('tenant does not match the token', 'tenant');
    const prior = await this.#store.getAgent(body.agentId);
    if (prior && prior.tenant !== body.tenant)
      throw forbidden('agent id belongs to another tenant', 'agentId');
    const now = Date.now();
    // A concurrent registration of the same id by another tenant may have won since the read above.
    const stored = await this.#store.upsertAgent(body, now);
    if (stored.tenant !== body.tenant) throw forbidden('agent id belongs to another tenant', 'agentId');
    this.#deadlines.arm(now + lostAfterMs(this.#timings.heartbeatSeconds));
    this.#log.info(
      { agentId: body.agentId, tenant: body.tenant, capabilities: body.capabilities },
      'agent registered',
    );
    return {
      agentId: body.agentId,
      heartbeatSeconds: this.#timings.heartbeatSeconds,
      pollSeconds: this.#timings.pollSeconds,
    };
  }

  /** The agent a token may act as: 404 if unknown (or deregistered), 403 if another tenant's. */
  async #ownAgent(p: Principal, agentId: string): Promise<AgentRecord> {
    const agent = await this.#store.getAgent(agentId);
    if (!agent || agent.state === 'gone') throw notFound('unknown agent', 'agentId');
    if (p.kind === 'tenant' && agent.tenant !== p.tenant)
      throw forbidden('agent belongs to another tenant', 'agentId');
    return agent;
  }

  async deregister(p: Principal, agentId: string): Promise<void> {
    await this.#ownAgent(p, agentId);
    const requeued = await this.#store.deregister(agentId, Date.now());
    this.#waiters.end((w) => w.agentId === agentId, 'stop');
    this.#requeued(requeued);
    this.#log.info({ agentId, requeued: requeued.length }, 'agent deregistered');
  }

  async heartbeat(p: Principal, agentId: string): Promise<{ drain: boolean }> {
    const agent = await this.#ownAgent(p, agentId);
    const now = Date.now();
    const after = await this.#store.heartbeat(agentId, now);
    if (!after) throw notFound('unknown agent', 'agentId');
    if (agent.state === 'lost') {
      this.#log.info({ agentId }, 'lost agent is back');
      this.#deadlines.arm(now + lostAfterMs(this.#timings.heartbeatSeconds));
    }
    return { drain: after.state === 'draining' };
  }

  /**
   * Long-poll: a leased task, or null after `waitSeconds` (or on drain/shutdown). The caller must
   * call `undelivered` if it could not write the answer, which hands the lease back.
   */
  async poll(
    p: Principal,
    agentId: string,
    waitSeconds: number,
    signal: AbortSignal,
  ): Promise<TaskAssignment | null> {
    let agent = await this.#ownAgent(p, agentId);
    if (agent.state === 'lost') agent = (await this.#store.heartbeat(agentId, Date.now())) ?? agent;
    if (agent.state !== 'live' || this.#stopped) return null;
    const shared = p.kind === 'tenant' ? p.shared : agent.shared;
    const w = new Waiter({ ...agent, shared }, Date.now());
    const deadline = Date.now() + waitSeconds * 1000;
    this.#waiters.add(w);
    try {
      for (;;) {
        w.beginClaim();
        if (signal.aborted) return null;
        const now = Date.now();
        const t = await this.#store.leaseNext(
          { agentId, tenant: agent.tenant, shared, capabilities: agent.capabilities },
          now,
          now + this.#timings.leaseSeconds * 1000,
        );
        if (t) {
          this.#deadlines.arm(t.leaseExpires);
          return {
            taskId: t.taskId,
            capability: t.capability,
            input: JSON.parse(t.inputJson) as unknown,
            leaseSeconds: this.#timings.leaseSeconds,
            tenant: t.tenant,
          };
        }
        const reason = await w.wait(deadline - Date.now(), signal);
        if (reason === 'handed' && w.handed) return w.handed;
        if (reason === 'revoked') throw unauthorized();
        if (reason !== 'wake') return null;
      }
    } finally {
      this.#waiters.remove(w);
    }
  }

  /** Hands back a lease whose long-poll answer never reached the agent. */
  async undelivered(agentId: string, taskId: string): Promise<void> {
    const r = await this.#store.release(taskId, agentId, Date.now());
    if (r) this.#requeued([r]);
    this.#log.warn({ agentId, taskId }, 'long-poll answer not delivered; task requeued');
  }

  // ---- tasks ----

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
    const taker = this.#stopped ? null : this.#waiters.reserve({ tenant, capability: body.capability });
    const leaseExpires = now + this.#timings.leaseSeconds * 1000;
    const taskId = newTaskId(now);
    let out: { taskId: string; created: boolean };
    try {
      out = await this.#store.insertTask(
        {
          taskId,
          tenant,
          capability: body.capability,
          inputJson,
          expiresAt,
          idempotencyKey: body.idempotencyKey,
          lease: taker ? { agentId: taker.agentId, tenant: taker.tenant, expires: leaseExpires } : undefined,
        },
        now,
      );
    } catch (err) {
      if (taker) this.#waiters.unreserve(taker);
      throw err;
    }
    if (!out.created) {
      if (taker) this.#waiters.unreserve(taker);
      return out;
    }
    this.#deadlines.arm(expiresAt);
    if (!taker) {
      this.#waiters.wake({ tenant, capability: body.capability });
      return out;
    }
    this.#deadlines.arm(leaseExpires);
    const handed = taker.hand({
      taskId,
      capability: body.capability,
      // The body's own value (parsed from JSON, so the same as the stored text): no re-parse of up to 1 MiB.
      input: body.input ?? null,
      leaseSeconds: this.#timings.leaseSeconds,
      tenant,
    });
    // The poll stopped waiting while the task was being stored (left, timed out, drained): requeue.
    if (!handed) await this.undelivered(taker.agentId, taskId);
    return out;
  }

  async getTask(p: Principal, taskId: string): Promise<TaskView> {
    const t = await this.#store.getTask(taskId);
    if (!t) throw notFound('unknown task', 'taskId');
    if (p.kind === 'tenant' && p.tenant !== t.tenant)
      throw forbidden('task belongs to another tenant', 'taskId');
    const view: TaskView = { taskId: t.taskId, capability: t.capability, state: t.state };
    if (t.resultStatus !== null) {
      view.result = { status: t.resultStatus, output: JSON.parse(t.resultOutputJson ?? 'null') as unknown };
    }
    return view;
  }

  async result(p: Principal, taskId: string, body: TaskResult): Promise<TaskAck> {
    const t = await this.#loadForPoster(taskId);
    const now = Date.now();
    const poster = { tenant: p.kind === 'tenant' ? p.tenant : null, agentId: body.agentId };
    const verdict = judgeResult(t, poster, now);
    this.#refuse(verdict, now);
    if (verdict.kind === 'accept') {
      const ok = await this.#store.complete(
        taskId,
        t.leaseAgent!,
        body.status,
        JSON.stringify(body.output ?? null),
        now,
      );
      if (!ok) throw conflict('lease is no longer held');
      return { taskId, state: body.status === 'ok' ? 'succeeded' : 'failed' };
    }
    return { taskId, state: t.state };
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
    const r = await this.#store.release(taskId, t.leaseAgent!, now);
    if (!r) throw conflict('lease is no longer held');
    this.#requeued([r]);
    return { taskId, state: r.state };
  }

  async #loadForPoster(taskId: string): Promise<TaskRecord> {
    const t = await this.#store.getTask(taskId);
    if (!t) throw notFound('unknown task', 'taskId');
    return t;
  }

  #refuse(v: Verdict, now: number): void {
    if (v.kind === 'forbidden') throw forbidden('the lease belongs to another tenant', 'taskId');
    if (v.kind === 'conflict') {
      // A lease found expired before the timer fired: end it now rather than at the next tick.
      this.#deadlines.arm(now);
      throw conflict(v.reason);
    }
  }

  // ---- deadlines ----

  #requeued(tasks: Requeued[]): void {
    for (const t of tasks) if (t.state === 'queued') this.#waiters.wake(t);
  }

  /** Ends due leases, TTLs and lost agents; returns the next deadline for the timer. */
  async #sweep(): Promise<number | null> {
    const now = Date.now();
    const requeued = await this.#store.expireLeases(now);
    const expired = await this.#store.expireQueued(now);
    const cutoff = lostCutoff(now, this.#startedAt, this.#timings.heartbeatSeconds);
    if (cutoff !== null) {
      const lost = await this.#store.markLost(cutoff, now);
      for (const agentId of lost.agents) this.#waiters.end((w) => w.agentId === agentId, 'stop');
      if (lost.agents.length > 0) this.#log.warn({ agents: lost.agents }, 'agents lost (missed heartbeats)');
      requeued.push(...lost.requeued);
    }
    if (requeued.length > 0 || expired.length > 0) {
      this.#log.info({ requeued: requeued.length, expired: expired.length }, 'leases and TTLs ended');
    }
    this.#requeued(requeued);
    const d = await this.#store.nextDeadlines();
    const lostAt =
      d.heartbeat === null
        ? null
        : Math.max(d.heartbeat, this.#startedAt) + lostAfterMs(this.#timings.heartbeatSeconds);
    return earliest(d.lease, d.ttl, lostAt);
  }
}

function agentView(a: AgentRecord): AgentView {
  return {
    agentId: a.agentId,
    tenant: a.tenant,
    capabilities: a.capabilities,
    state: a.state,
    lastHeartbeat: new Date(a.lastHeartbeat).toISOString(),
  };
}

export { HttpError };
