// HiveStore on node:sqlite (DatabaseSync): WAL journal, busy timeout, versioned migrations through
// PRAGMA user_version. Every write is committed before its promise resolves, so a submit answered
// 201 survives a kill -9 (WAL + synchronous=NORMAL is durable against process crashes; a power loss
// may drop the last commits, which `synchronous: 'full'` prevents at a throughput cost). Writes go
// through a group commit (sqlite-group-commit.ts): those of one event-loop round share a transaction.
// Checkpoints run on a worker thread (sqlite-checkpointer.ts), off the event loop.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { AgentState } from '../../src/protocol/index.ts';
import {
  leasedRecord,
  type Row,
  str,
  taskValues,
  toAgent,
  toDeadlines,
  toLeased,
  toRequeued,
  toTask,
  toTenant,
} from './rows.ts';
import { StoreCaches } from './sqlite-caches.ts';
import { Checkpointer } from './sqlite-checkpointer.ts';
import { GroupCommit } from './sqlite-group-commit.ts';
import { MIGRATIONS } from './sqlite-schema.ts';
import { SQL } from './sqlite-statements.ts';
import type {
  AgentRecord,
  AgentRegistration,
  CompleteArgs,
  Deadlines,
  HiveStore,
  LeasedTask,
  Lessee,
  NewTask,
  Requeued,
  TaskRecord,
  TenantByHash,
} from './store.ts';

export interface SqliteStoreOptions {
  synchronous?: 'normal' | 'full';
  /** Told when a background checkpoint failed (default: one line on stderr). */
  onCheckpointError?: (message: string) => void;
}

export class SqliteHiveStore implements HiveStore {
  readonly #db: DatabaseSync;
  readonly #stmts = new Map<string, StatementSync>();
  /** Exact copies of hot rows (tokens, agents, live leases); every write below keeps them so. */
  readonly #cache = new StoreCaches();
  /**
   * How many tasks are queued (exact, kept by every write like the caches): a poll with nothing
   * queued and no write pending is answered without a statement, and parks at once.
   */
  #queued: number;
  readonly #writes: GroupCommit;
  readonly #checkpointer: Checkpointer | null;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.#db = new DatabaseSync(path, { timeout: 5000 });
    this.#db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'};
      PRAGMA foreign_keys = ON;`);
    this.#migrate();
    this.#queued = this.#countQueued();
    // An in-memory database has no WAL (and no second connection could reach it).
    const ckpt =
      path === ':memory:' || path === ''
        ? null
        : new Checkpointer(
            this.#db,
            path,
            options.onCheckpointError ??
              ((m) => process.stderr.write(`hive store: background checkpoint failed: ${m}\n`)),
          );
    this.#checkpointer = ckpt;
    this.#writes = new GroupCommit(this.#db, {
      afterCommit: ckpt ? () => ckpt.committed() : undefined,
      afterRollback: () => {
        this.#cache.clear();
        this.#queued = this.#countQueued();
      },
    });
  }

  /**
   * A write: runs in the next group transaction, resolves once that is committed. `atomic` when it
   * has several writing statements (a savepoint undoes them together if it throws).
   */
  #write<T>(fn: () => T, atomic = false): Promise<T> {
    return this.#writes.run(fn, atomic);
  }

  #migrate(): void {
    const row = this.#db.prepare('PRAGMA user_version').get() as Row;
    const version = Number(row.user_version);
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.#tx(() => {
        this.#db.exec(MIGRATIONS[v]!);
        this.#db.exec(`PRAGMA user_version = ${v + 1}`);
      });
    }
  }

  #tx<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.#db.exec('COMMIT');
      return out;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  #countQueued(): number {
    return Number((this.#q(SQL.countQueued).get() as Row).n);
  }

  /** Tasks queued right now, as far as committed and running writes go (for tests). */
  get queuedCount(): number {
    return this.#queued;
  }

  #q(sql: string): StatementSync {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  setTenantToken(tenant: string, tokenHash: Buffer, shared: boolean, now: number): Promise<void> {
    return this.#write(() => {
      this.#q(SQL.setTenantToken).run(tenant, tokenHash, shared ? 1 : 0, now);
      this.#cache.tenantChanged();
    });
  }

  revokeTenantToken(tenant: string, now: number): Promise<boolean> {
    return this.#write(() => {
      const r = this.#q(SQL.revokeTenantToken).run(now, tenant);
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
    const r = this.#q(SQL.tenantByTokenHash).get(tokenHash) as Row | undefined;
    return r ? toTenant(r) : null;
  }

  async getAgent(agentId: string): Promise<AgentRecord | null> {
    return this.#agent(agentId);
  }

  #agent(agentId: string): AgentRecord | null {
    const cached = this.#cache.agent(agentId);
    if (cached) return cached;
    const r = this.#q(SQL.agent).get(agentId) as Row | undefined;
    return r ? this.#cache.keepAgent(toAgent(r)) : null;
  }

  /**
   * The row of another tenant is left alone (the caller checked, but a concurrent registration of
   * the same id may have won meanwhile): the record returned is then that tenant's.
   */
  upsertAgent(reg: AgentRegistration, now: number): Promise<AgentRecord> {
    return this.#write(() => {
      this.#q(SQL.upsertAgent).run(
        reg.agentId,
        reg.tenant,
        JSON.stringify(reg.capabilities),
        reg.identityHash,
        reg.version,
        reg.os,
        now,
        now,
      );
      this.#cache.dropAgent(reg.agentId);
      return this.#agent(reg.agentId)!;
    });
  }

  heartbeat(agentId: string, now: number): Promise<AgentRecord | null> {
    return this.#write(() => {
      this.#q(SQL.heartbeat).run(now, agentId);
      this.#cache.dropAgent(agentId);
      const a = this.#agent(agentId);
      return a && a.state !== 'gone' ? a : null;
    });
  }

  setAgentState(agentId: string, state: AgentState): Promise<void> {
    return this.#write(() => {
      this.#q(SQL.setAgentState).run(state, state, agentId);
      this.#cache.dropAgent(agentId);
    });
  }

  #releaseAgentLeases(agentId: string, now: number): Requeued[] {
    return this.#requeued(this.#q(SQL.releaseAgentLeases).all({ now, agent: agentId }) as Row[]);
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
    return this.#write(() => {
      this.#q(SQL.deregister).run(agentId);
      this.#cache.dropAgent(agentId);
      return this.#releaseAgentLeases(agentId, now);
    }, true);
  }

  async listAgents(): Promise<AgentRecord[]> {
    return (this.#q(SQL.listAgents).all() as Row[]).map(toAgent);
  }

  markLost(cutoff: number, now: number): Promise<{ agents: string[]; requeued: Requeued[] }> {
    return this.#write(() => {
      const agents = (this.#q(SQL.markLost).all(cutoff) as Row[]).map((r) => str(r.agent_id));
      const requeued = agents.flatMap((a) => this.#releaseAgentLeases(a, now));
      for (const a of agents) this.#cache.dropAgent(a);
      return { agents, requeued };
    }, true);
  }

  insertTask(task: NewTask, now: number): Promise<{ taskId: string; created: boolean }> {
    // With a key, lookup and insert run together in one write (nothing else runs in between).
    return this.#write(() => {
      if (task.idempotencyKey !== undefined) {
        const prior = this.#q(SQL.taskByIdempotencyKey).get(task.tenant, task.idempotencyKey) as
          | Row
          | undefined;
        if (prior) return { taskId: str(prior.task_id), created: false };
      }
      return this.#insertTask(task, now);
    });
  }

  #insertTask(task: NewTask, now: number): { taskId: string; created: boolean } {
    this.#q(SQL.insertTask).run(...taskValues(task, now), now);
    if (!task.lease) this.#queued++;
    else this.#cache.keepLease(leasedRecord(task, now, task.expiresAt, task.lease));
    return { taskId: task.taskId, created: true };
  }

  async getTask(taskId: string): Promise<TaskRecord | null> {
    const leased = this.#cache.lease(taskId);
    if (leased) return leased;
    const r = this.#q(SQL.task).get(taskId) as Row | undefined;
    return r ? toTask(r) : null;
  }

  async leaseNext(agent: Lessee, now: number, leaseExpires: number): Promise<LeasedTask | null> {
    if (agent.capabilities.length === 0) return null;
    // Nothing queued and no write pending that might queue something: the answer is null now.
    if (this.#queued === 0 && this.#writes.idle) return null;
    return this.#write(() => (this.#queued === 0 ? null : this.#leaseNext(agent, now, leaseExpires)));
  }

  #leaseNext(agent: Lessee, now: number, leaseExpires: number): LeasedTask | null {
    // Routing's rule in SQL (sqlite-statements.ts); one capability needs no json_each.
    const single = agent.capabilities.length === 1;
    const r = this.#q(single ? SQL.leaseOne : SQL.leaseAny).get({
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
    return this.#write(() => {
      const r = this.#q(SQL.complete).run(
        status === 'ok' ? 'succeeded' : 'failed',
        status,
        outputJson,
        now,
        taskId,
        agentId,
        now,
      );
      this.#cache.dropTask(taskId);
      return Number(r.changes) === 1;
    });
  }

  release(taskId: string, agentId: string, now: number): Promise<Requeued | null> {
    return this.#write(() => {
      const r = this.#q(SQL.release).get({ now, task: taskId, agent: agentId }) as Row | undefined;
      return r ? this.#requeued([r])[0]! : null;
    });
  }

  expireLeases(now: number): Promise<Requeued[]> {
    return this.#write(() => this.#requeued(this.#q(SQL.expireLeases).all({ now }) as Row[]));
  }

  expireQueued(now: number): Promise<string[]> {
    return this.#write(() =>
      (this.#q(SQL.expireQueued).all(now, now) as Row[]).map((r) => {
        const id = str(r.task_id);
        this.#cache.dropTask(id);
        this.#queued--;
        return id;
      }),
    );
  }

  async nextDeadlines(): Promise<Deadlines> {
    return toDeadlines(this.#q(SQL.nextDeadlines).get() as Row);
  }

  async close(): Promise<void> {
    if (!this.#db.isOpen) return;
    this.#writes.flush();
    // The worker's connection goes first, so that closing the last one checkpoints and removes the WAL.
    await this.#checkpointer?.close();
    if (this.#db.isOpen) this.#db.close();
  }
}
