// The hive's behaviour (DESIGN §5) between the HTTP shell and the store, the one object the server
// calls: authentication, admin, agent lifecycle and long-polls here; submit / result / release in
// tasks.ts (delegated); and one timer that ends leases, TTLs and lost agents exactly when the
// earliest of them is due (no polling loop; idle costs nothing but that timer).
import type { Logger } from '../../src/log.ts';
import type {
  AgentView,
  CatalogResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  RegisterRequest,
  RegisterResponse,
  ReleaseRequest,
  SubmitTaskRequest,
  TaskAck,
  TaskAssignment,
  TaskResult,
  TaskView,
} from '../../src/protocol/index.ts';
import { buildCatalog } from './catalog.ts';
import { DeadlineTimer } from './deadline-timer.ts';
import { type HiveEvents, NO_EVENTS } from './events.ts';
import { forbidden, HttpError, notFound, unauthorized } from './http/http-error.ts';
import { type HiveTimings, type Principal, wakeRequeued } from './parts.ts';
import { earliest, lostAfterMs, lostCutoff } from './routing.ts';
import type { AgentRecord, HiveStore, Requeued, StoreEvent } from './store/store.ts';
import { TaskWatch } from './task-watch.ts';
import { TaskDesk } from './tasks.ts';
import { hashToken, mintToken, sameHash } from './tokens.ts';
import { agentView, assignment, heartbeatAnswer } from './views.ts';
import { Waiter, WaiterRegistry } from './waiters.ts';

export type { HiveTimings, Principal };

export class Coordinator {
  readonly #store: HiveStore;
  readonly #timings: HiveTimings;
  readonly #adminHash: Buffer;
  readonly #log: Logger;
  readonly #events: HiveEvents;
  readonly #waiters = new WaiterRegistry();
  readonly #watch = new TaskWatch();
  readonly #startedAt = Date.now();
  readonly #deadlines = new DeadlineTimer(
    () => this.#sweep(),
    (err) => this.#log.error({ err }, 'deadline sweep failed; retrying in 1 s'),
  );
  #stopped = false;
  #unsubscribe: (() => void) | null = null;
  /** Submit, read, result and release (tasks.ts), over the same store, waiters and timer. */
  readonly #tasks: TaskDesk;

  constructor(
    store: HiveStore,
    timings: HiveTimings,
    adminToken: string,
    log: Logger,
    events: HiveEvents = NO_EVENTS,
  ) {
    this.#store = store;
    this.#timings = timings;
    this.#adminHash = hashToken(adminToken);
    this.#log = log;
    this.#events = events;
    this.#tasks = new TaskDesk({
      store,
      timings,
      waiters: this.#waiters,
      deadlines: this.#deadlines,
      log,
      watch: this.#watch,
      events,
      stopped: () => this.#stopped,
    });
  }

  get timings(): HiveTimings {
    return this.#timings;
  }

  /** Long-polls parked right now (read at scrape time by the metrics). */
  get parkedPolls(): number {
    return this.#waiters.size;
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
      {
        agentId: body.agentId,
        tenant: body.tenant,
        capabilities: body.capabilities,
        described: body.descriptors?.length ?? 0,
      },
      'agent registered',
    );
    return {
      agentId: body.agentId,
      heartbeatSeconds: this.#timings.heartbeatSeconds,
      pollSeconds: this.#timings.pollSeconds,
    };
  }

  /** `GET /v1/capabilities`: what the caller can route to right now (catalog.ts decides). */
  async catalog(p: Principal): Promise<CatalogResponse> {
    const agents = await this.#store.catalogAgents(p.kind === 'admin' ? null : p.tenant);
    return { capabilities: buildCatalog(agents, p) };
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
    this.#events.leasesEnded(requeued, 'deregistered');
    this.#waiters.end((w) => w.agentId === agentId, 'stop');
    this.#requeued(requeued);
    this.#log.info({ agentId, requeued: requeued.length }, 'agent deregistered');
  }

  /**
   * Records a heartbeat. The answer says whether to drain, which of the agent's leased tasks were
   * cancelled (looked up only when the agent may be busy: `busy: false` with nothing running skips
   * the read), and for the tasks it names as running, which leases were renewed (now + lease
   * seconds) and which it no longer holds (`lost`; the agent stops them). Old agents name none.
   */
  async heartbeat(p: Principal, agentId: string, body: HeartbeatRequest = {}): Promise<HeartbeatResponse> {
    const agent = await this.#ownAgent(p, agentId);
    const now = Date.now();
    const after = await this.#store.heartbeat(agentId, now);
    if (!after) throw notFound('unknown agent', 'agentId');
    if (agent.state === 'lost') {
      this.#log.info({ agentId }, 'lost agent is back');
      this.#deadlines.arm(now + lostAfterMs(this.#timings.heartbeatSeconds));
    }
    const running = [...new Set(body.running ?? [])];
    // The deadline timer stays armed for the old expiry: its sweep finds nothing due and re-arms
    // for the earliest expiry in the store, the renewed one included.
    const renewed = await this.#store.renewLeases(
      agentId,
      running,
      now,
      now + this.#timings.leaseSeconds * 1000,
    );
    if (renewed.length > 0) this.#events.leasesRenewed(renewed.length);
    const cancel =
      body.busy === false && running.length === 0 ? [] : await this.#store.cancelledLeases(agentId, now);
    return heartbeatAnswer(after.state === 'draining', running, renewed, cancel);
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
          this.#watch.changed(t.taskId);
          return assignment(t, this.#timings.leaseSeconds);
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
  undelivered(agentId: string, taskId: string): Promise<void> {
    return this.#tasks.undelivered(agentId, taskId);
  }

  // ---- tasks (tasks.ts) ----

  submit(p: Principal, body: SubmitTaskRequest): Promise<{ taskId: string; created: boolean }> {
    return this.#tasks.submit(p, body);
  }

  getTask(p: Principal, taskId: string): Promise<TaskView> {
    return this.#tasks.getTask(p, taskId);
  }

  result(p: Principal, taskId: string, body: TaskResult): Promise<TaskAck> {
    return this.#tasks.result(p, taskId, body);
  }

  release(p: Principal, taskId: string, body: ReleaseRequest): Promise<TaskAck> {
    return this.#tasks.release(p, taskId, body);
  }

  cancel(p: Principal, taskId: string): Promise<TaskAck> {
    return this.#tasks.cancel(p, taskId);
  }

  /** The task `tenant` submitted with this idempotency key, if any (the MCP door's cancellation). */
  taskByKey(tenant: string, idempotencyKey: string): Promise<string | null> {
    return this.#store.taskByKey(tenant, idempotencyKey);
  }

  /** Wakes `wake` whenever this process changes the task (see task-watch.ts); returns the unwatch. */
  watchTask(taskId: string, wake: () => void): () => void {
    return this.#watch.watch(taskId, wake);
  }

  // ---- deadlines ----

  #requeued(tasks: Requeued[]): void {
    wakeRequeued(this.#waiters, tasks);
  }

  /** Ends due leases, TTLs and lost agents; returns the next deadline for the timer. */
  async #sweep(): Promise<number | null> {
    const now = Date.now();
    const requeued = await this.#store.expireLeases(now);
    this.#events.leasesEnded(requeued, 'lease_expired');
    const expired = await this.#store.expireQueued(now);
    for (const t of expired) this.#events.finished(t, 'expired');
    const cutoff = lostCutoff(now, this.#startedAt, this.#timings.heartbeatSeconds);
    if (cutoff !== null) {
      const lost = await this.#store.markLost(cutoff, now);
      for (const agentId of lost.agents) this.#waiters.end((w) => w.agentId === agentId, 'stop');
      if (lost.agents.length > 0) this.#log.warn({ agents: lost.agents }, 'agents lost (missed heartbeats)');
      this.#events.leasesEnded(lost.requeued, 'agent_lost');
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

export { HttpError };
