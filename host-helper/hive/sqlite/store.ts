// HiveStore on node:sqlite, over the connection of db.ts (WAL, migrations, group commit,
// checkpoints on a worker). Every write is committed before its promise resolves, so a submit answered
// 201 survives a kill -9 (WAL + synchronous=NORMAL is durable against process crashes; a power loss
// may drop the last commits, which `synchronous: 'full'` prevents at a throughput cost). Hot rows are
// served from exact in-memory copies (caches.ts) and the queued count is kept, so an idle poll
// costs no statement. In: store calls; out: records (rows.ts), promises resolved after the commit.
import type { AgentState } from '../../../src/protocol/index.ts';
import {
  agentValues,
  descriptorsJson,
  leasedRecord,
  type Row,
  str,
  taskValues,
  toAgent,
  toCancelled,
  toCatalogAgent,
  toDeadlines,
  toLeased,
  toQueueStat,
  toRecentTask,
  toRequeued,
  toTask,
  toTenant,
} from '../store/rows.ts';
import type {
  AgentRecord,
  AgentRegistration,
  CancelledTask,
  CatalogAgent,
  CompleteArgs,
  Deadlines,
  HiveStore,
  LeasedTask,
  Lessee,
  NewTask,
  QueueStat,
  RecentTask,
  Requeued,
  TaskRecord,
  TenantByHash,
} from '../store/store.ts';
import { StoreCaches } from './caches.ts';
import { SqliteDb, type SqliteStoreOptions } from './db.ts';
import { SQL } from './statements.ts';

export type { SqliteStoreOptions };

export class SqliteHiveStore implements HiveStore {
  readonly #db: SqliteDb;
  /** Exact copies of hot rows (tokens, agents, live leases); every write below keeps them so. */
  readonly #cache = new StoreCaches();
  /**
   * How many tasks are queued (exact, kept by every write like the caches): a poll with nothing
   * queued and no write pending is answered without a statement, and parks at once.
   */
  #queued: number;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    // A group transaction that failed as a whole may have undone any cached change.
    this.#db = new SqliteDb(path, options, () => {
      this.#cache.clear();
      this.#queued = this.#countQueued();
    });
    this.#queued = this.#countQueued();
  }

  #countQueued(): number {
    return Number((this.#db.q(SQL.countQueued).get() as Row).n);
  }

  /** Tasks queued right now, as far as committed and running writes go (for tests). */
  get queuedCount(): number {
    return this.#queued;
  }

  setTenantToken(tenant: string, tokenHash: Buffer, shared: boolean, now: number): Promise<void> {
    return this.#db.write(() => {
      this.#db.q(SQL.setTenantToken).run(tenant, tokenHash, shared ? 1 : 0, now);
      this.#cache.tenantChanged();
    });
  }

  revokeTenantToken(tenant: string, now: number): Promise<boolean> {
    return this.#db.write(() => {
      const r = this.#db.q(SQL.revokeTenantToken).run(now, tenant);
      this.#cache.tenantChanged();
      return Number(r.changes) === 1;
    });
  }

  async tenantByTokenHash(tokenHash: Buffer): Promise<TenantByHash | null> {
    const key = tokenHash.toString('hex');
    const cached = this.#cache.tokens.get(key);
    if (cached !== undefined) return cached;
    const found = this.#lookupToken(tokenHash);
    if (found) this.#cache.tokens.set(key, found);
    return found;
  }

  #lookupToken(tokenHash: Buffer): TenantByHash | null {
    const r = this.#db.q(SQL.tenantByTokenHash).get(tokenHash) as Row | undefined;
    return r ? toTenant(r) : null;
  }

  async getAgent(agentId: string): Promise<AgentRecord | null> {
    return this.#agent(agentId);
  }

  #agent(agentId: string): AgentRecord | null {
    const cached = this.#cache.agent(agentId);
    if (cached) return cached;
    const r = this.#db.q(SQL.agent).get(agentId) as Row | undefined;
    return r ? this.#cache.keepAgent(toAgent(r)) : null;
  }

  /**
   * The row of another tenant is left alone (the caller checked, but a concurrent registration of
   * the same id may have won meanwhile): the record returned is then that tenant's.
   */
  upsertAgent(reg: AgentRegistration, now: number): Promise<AgentRecord> {
    return this.#db.write(() => {
      const r = this.#db.q(SQL.upsertAgent).run(...agentValues(reg), now, now);
      // Only a registration that applied (not another tenant's id) replaces the descriptors.
      if (Number(r.changes) === 1) {
        this.#db.q(SQL.upsertDescriptors).run(reg.agentId, descriptorsJson(reg), now);
      }
      this.#cache.dropAgent(reg.agentId);
      return this.#agent(reg.agentId)!;
    }, true);
  }

  heartbeat(agentId: string, now: number): Promise<AgentRecord | null> {
    return this.#db.write(() => {
      this.#db.q(SQL.heartbeat).run(now, agentId);
      this.#cache.dropAgent(agentId);
      const a = this.#agent(agentId);
      return a && a.state !== 'gone' ? a : null;
    });
  }

  setAgentState(agentId: string, state: AgentState): Promise<void> {
    return this.#db.write(() => {
      this.#db.q(SQL.setAgentState).run(state, state, agentId);
      this.#cache.dropAgent(agentId);
    });
  }

  #releaseAgentLeases(agentId: string, now: number): Requeued[] {
    return this.#requeued(this.#db.q(SQL.releaseAgentLeases).all({ now, agent: agentId }) as Row[]);
  }

  /** Rows whose lease ended: their cached lease goes too; those back in the queue count. */
  #requeued(rows: Row[]): Requeued[] {
    const out = rows.map(toRequeued);
    for (const r of out) {
      this.#cache.dropTask(r.taskId);
      if (r.state === 'queued') this.#queued++;
    }
    return out;
  }

  deregister(agentId: string, now: number): Promise<Requeued[]> {
    return this.#db.write(() => {
      this.#db.q(SQL.deregister).run(agentId);
      this.#cache.dropAgent(agentId);
      return this.#releaseAgentLeases(agentId, now);
    }, true);
  }

  async listAgents(): Promise<AgentRecord[]> {
    return (this.#db.q(SQL.listAgents).all() as Row[]).map(toAgent);
  }

  async catalogAgents(tenant: string | null): Promise<CatalogAgent[]> {
    return (this.#db.q(SQL.catalogAgents).all({ tenant }) as Row[]).map(toCatalogAgent);
  }

  markLost(cutoff: number, now: number): Promise<{ agents: string[]; requeued: Requeued[] }> {
    return this.#db.write(() => {
      const agents = (this.#db.q(SQL.markLost).all(cutoff) as Row[]).map((r) => str(r.agent_id));
      const requeued = agents.flatMap((a) => this.#releaseAgentLeases(a, now));
      for (const a of agents) this.#cache.dropAgent(a);
      return { agents, requeued };
    }, true);
  }

  insertTask(task: NewTask, now: number): Promise<{ taskId: string; created: boolean }> {
    // With a key, lookup and insert run together in one write (nothing else runs in between).
    return this.#db.write(() => {
      if (task.idempotencyKey !== undefined) {
        const prior = this.#db.q(SQL.taskByIdempotencyKey).get(task.tenant, task.idempotencyKey) as
          | Row
          | undefined;
        if (prior) return { taskId: str(prior.task_id), created: false };
      }
      return this.#insertTask(task, now);
    });
  }

  #insertTask(task: NewTask, now: number): { taskId: string; created: boolean } {
    this.#db.q(SQL.insertTask).run(...taskValues(task, now), now);
    if (!task.lease) this.#queued++;
    else this.#cache.keepLease(leasedRecord(task, now, task.expiresAt, task.lease));
    return { taskId: task.taskId, created: true };
  }

  async getTask(taskId: string): Promise<TaskRecord | null> {
    const leased = this.#cache.lease(taskId);
    if (leased) return leased;
    const r = this.#db.q(SQL.task).get(taskId) as Row | undefined;
    return r ? toTask(r) : null;
  }

  async leaseNext(agent: Lessee, now: number, leaseExpires: number): Promise<LeasedTask | null> {
    if (agent.capabilities.length === 0) return null;
    // Nothing queued and no write pending that might queue something: the answer is null now.
    if (this.#queued === 0 && this.#db.idle) return null;
    return this.#db.write(() => (this.#queued === 0 ? null : this.#leaseNext(agent, now, leaseExpires)));
  }

  #leaseNext(agent: Lessee, now: number, leaseExpires: number): LeasedTask | null {
    // Routing's rule in SQL (statements.ts); one capability needs no json_each.
    const single = agent.capabilities.length === 1;
    const r = this.#db.q(single ? SQL.leaseOne : SQL.leaseAny).get({
      agent: agent.agentId,
      tenant: agent.tenant,
      leaseExpires,
      now,
      caps: single ? agent.capabilities[0]! : JSON.stringify(agent.capabilities),
      shared: agent.shared ? 1 : 0,
    }) as Row | undefined;
    if (!r) return null;
    this.#queued--;
    const t = toLeased(r);
    const lease = { agentId: agent.agentId, tenant: agent.tenant, expires: t.leaseExpires };
    this.#cache.keepLease(leasedRecord(t, Number(r.created_at), Number(r.expires_at), lease));
    return t;
  }

  complete(...[taskId, agentId, status, outputJson, now]: CompleteArgs): Promise<boolean> {
    return this.#db.write(() => {
      const r = this.#db
        .q(SQL.complete)
        .run(status === 'ok' ? 'succeeded' : 'failed', status, outputJson, now, taskId, agentId, now);
      this.#cache.dropTask(taskId);
      return Number(r.changes) === 1;
    });
  }

  release(taskId: string, agentId: string, now: number): Promise<Requeued | null> {
    return this.#db.write(() => {
      const r = this.#db.q(SQL.release).get({ now, task: taskId, agent: agentId }) as Row | undefined;
      return r ? this.#requeued([r])[0]! : null;
    });
  }

  cancelTask(taskId: string, now: number): Promise<CancelledTask | null> {
    return this.#db.write(() => {
      const r = this.#db.q(SQL.cancel).get({ now, task: taskId }) as Row | undefined;
      if (!r) return null;
      const t = toCancelled(r);
      this.#cache.dropTask(taskId);
      if (t.leaseAgent === null) this.#queued--;
      return t;
    });
  }

  renewLeases(
    agentId: string,
    taskIds: readonly string[],
    now: number,
    leaseExpires: number,
  ): Promise<string[]> {
    if (taskIds.length === 0) return Promise.resolve([]);
    return this.#db.write(() =>
      (
        this.#db.q(SQL.renewLeases).all({
          agent: agentId,
          tasks: JSON.stringify(taskIds),
          now,
          leaseExpires,
        }) as Row[]
      ).map((r) => {
        const taskId = str(r.task_id);
        this.#cache.renewLease(taskId, Number(r.lease_expires));
        return taskId;
      }),
    );
  }

  async cancelledLeases(agentId: string, now: number): Promise<string[]> {
    return (this.#db.q(SQL.cancelledLeases).all(agentId, now) as Row[]).map((r) => str(r.task_id));
  }

  async taskByKey(tenant: string, idempotencyKey: string): Promise<string | null> {
    const r = this.#db.q(SQL.taskByIdempotencyKey).get(tenant, idempotencyKey) as Row | undefined;
    return r ? str(r.task_id) : null;
  }

  expireLeases(now: number): Promise<Requeued[]> {
    return this.#db.write(() => this.#requeued(this.#db.q(SQL.expireLeases).all({ now }) as Row[]));
  }

  expireQueued(now: number): Promise<Requeued[]> {
    return this.#db.write(() =>
      (this.#db.q(SQL.expireQueued).all(now, now) as Row[]).map((r) => {
        const t = toRequeued(r);
        this.#cache.dropTask(t.taskId);
        this.#queued--;
        return t;
      }),
    );
  }

  async queueStats(): Promise<QueueStat[]> {
    // Nothing queued (the exact count): no statement.
    if (this.#queued === 0) return [];
    return (this.#db.q(SQL.queueStats).all() as Row[]).map(toQueueStat);
  }

  async recentTasks(limit: number): Promise<RecentTask[]> {
    return (this.#db.q(SQL.recentTasks).all(limit) as Row[]).map(toRecentTask);
  }

  async nextDeadlines(): Promise<Deadlines> {
    return toDeadlines(this.#db.q(SQL.nextDeadlines).get() as Row);
  }

  close(): Promise<void> {
    return this.#db.close();
  }
}
