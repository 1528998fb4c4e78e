// HiveStore on PostgreSQL (the `pg` client, a connection pool), for several stateless coordinator
// replicas over one database. Leases are taken with FOR UPDATE SKIP LOCKED, so replicas never wait
// on each other's claims; sweeps (lease ends, TTLs, lost agents) are conditional updates over
// SKIP LOCKED rows, safe to run on every replica at once; each change other replicas must react to
// is notified from the committing statement (notify.ts). Token lookups are never cached: another
// replica may have revoked the token a moment ago. Every promise resolves after its commit.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../../../src/log.ts';
import { type AgentState, MAX_CANCELS_PER_HEARTBEAT } from '../../../src/protocol/index.ts';
import {
  agentValues,
  descriptorsJson,
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
  StoreEvent,
  TaskRecord,
  TenantByHash,
} from '../store/store.ts';
import { NotifyListener, taskPayload } from './notify.ts';
import { AGENT_SELECT, migrate, TASK_COLUMNS } from './schema.ts';
import { statements } from './statements.ts';

export interface PgStoreOptions {
  /** Connections in the pool (parked long-polls hold none). */
  poolSize?: number;
  log?: Logger;
}

/** SQLSTATEs worth one more try: deadlock detected, serialization failure. */
const RETRYABLE = new Set(['40P01', '40001']);

export class PgHiveStore implements HiveStore {
  readonly #pool: pg.Pool;
  readonly #events: NotifyListener;
  /** This replica's id in notifications, so it can skip its own (hex: safe inside SQL text). */
  readonly #origin = randomBytes(8).toString('hex');
  readonly #sql: ReturnType<typeof statements>;

  private constructor(url: string, options: PgStoreOptions) {
    const config: pg.ClientConfig = { connectionString: url, application_name: 'clawdie-hive' };
    this.#pool = new pg.Pool({ ...config, max: options.poolSize ?? 10 });
    // An idle pooled connection that fails (server restart) is dropped by the pool; log, don't crash.
    this.#pool.on('error', (err) => options.log?.warn({ err }, 'idle database connection failed'));
    this.#events = new NotifyListener(config, this.#origin, options.log);
    this.#sql = statements(this.#origin);
  }

  /** Connects, migrates the schema (once across replicas) and starts listening for events. */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgHiveStore> {
    const store = new PgHiveStore(url, options);
    try {
      const client = await store.#pool.connect();
      try {
        await migrate(client);
      } finally {
        client.release();
      }
      await store.#events.start();
      return store;
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  subscribe(listener: (e: StoreEvent) => void): () => void {
    return this.#events.subscribe(listener);
  }

  async #q(name: string, text: string, values: unknown[]): Promise<Row[]> {
    return (await this.#pool.query<Row>({ name, text, values })).rows;
  }

  /** Runs `fn` in a transaction on one connection; retried once on a deadlock or serialization failure. */
  async #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const c = await this.#pool.connect();
      try {
        await c.query('BEGIN');
        const out = await fn(c);
        await c.query('COMMIT');
        return out;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        if (attempt > 0 || !RETRYABLE.has(String((err as { code?: unknown }).code))) throw err;
      } finally {
        c.release();
      }
    }
  }

  async setTenantToken(tenant: string, tokenHash: Buffer, shared: boolean, now: number): Promise<void> {
    await this.#q('setToken', this.#sql.setToken, [tenant, tokenHash, shared, now]);
  }

  async revokeTenantToken(tenant: string, now: number): Promise<boolean> {
    return (await this.#q('revokeToken', this.#sql.revokeToken, [tenant, now])).length === 1;
  }

  async tenantByTokenHash(tokenHash: Buffer): Promise<TenantByHash | null> {
    const [r] = await this.#q(
      'tokenLookup',
      'SELECT tenant, shared, token_hash FROM hive_tenants WHERE token_hash = $1',
      [tokenHash],
    );
    return r ? toTenant(r) : null;
  }

  async getAgent(agentId: string): Promise<AgentRecord | null> {
    const [r] = await this.#q('getAgent', `${AGENT_SELECT('hive_agents')} WHERE a.agent_id = $1`, [agentId]);
    return r ? toAgent(r) : null;
  }

  async upsertAgent(reg: AgentRegistration, now: number): Promise<AgentRecord> {
    const [r] = await this.#q('upsertAgent', this.#sql.upsertAgent, [
      ...agentValues(reg),
      now,
      descriptorsJson(reg),
    ]);
    if (r) return toAgent(r);
    // The id is another tenant's (the caller checked, but a concurrent registration may have won):
    // that row is left alone and returned, so the caller refuses.
    return (await this.getAgent(reg.agentId))!;
  }

  async heartbeat(agentId: string, now: number): Promise<AgentRecord | null> {
    const [r] = await this.#q('heartbeat', this.#sql.heartbeat, [agentId, now]);
    return r ? toAgent(r) : null;
  }

  async setAgentState(agentId: string, state: AgentState): Promise<void> {
    await this.#q('setAgentState', this.#sql.setAgentState, [agentId, state]);
  }

  async deregister(agentId: string, now: number): Promise<Requeued[]> {
    return this.#tx(async (c) => {
      await c.query(this.#sql.gone, [agentId]);
      return (await c.query<Row>(this.#sql.releaseAgent, [now, [agentId]])).rows.map(toRequeued);
    });
  }

  async listAgents(): Promise<AgentRecord[]> {
    return (await this.#q('listAgents', `${AGENT_SELECT('hive_agents')} ORDER BY a.agent_id`, [])).map(
      toAgent,
    );
  }

  async catalogAgents(tenant: string | null): Promise<CatalogAgent[]> {
    const rows = await this.#q(
      'catalogAgents',
      `SELECT a.agent_id, a.tenant, COALESCE(t.shared, false) AS shared, a.capabilities, d.descriptors,
         COALESCE(d.registered_at, a.registered_at) AS registered_at
       FROM hive_agents a LEFT JOIN hive_tenants t ON t.tenant = a.tenant
         LEFT JOIN hive_agent_descriptors d ON d.agent_id = a.agent_id
       WHERE a.state = 'live'
         AND ($1::text IS NULL OR a.tenant = $1 OR (t.shared AND t.token_hash IS NOT NULL))
       ORDER BY a.agent_id`,
      [tenant],
    );
    return rows.map(toCatalogAgent);
  }

  async markLost(cutoff: number, now: number): Promise<{ agents: string[]; requeued: Requeued[] }> {
    return this.#tx(async (c) => {
      const agents = (await c.query<Row>(this.#sql.markLost, [cutoff])).rows.map((r) => str(r.agent_id));
      if (agents.length === 0) return { agents, requeued: [] };
      const requeued = (await c.query<Row>(this.#sql.releaseAgent, [now, agents])).rows.map(toRequeued);
      return { agents, requeued };
    });
  }

  async insertTask(task: NewTask, now: number): Promise<{ taskId: string; created: boolean }> {
    const deadline = task.lease ? Math.min(task.lease.expires, task.expiresAt) : task.expiresAt;
    const payload = taskPayload(this.#origin, { ...task, queued: !task.lease, deadline });
    const [r] = await this.#q('insertTask', this.#sql.insertTask, [...taskValues(task, now), payload]);
    if (r) return { taskId: str(r.task_id), created: true };
    // The tenant used this idempotency key before (ON CONFLICT waited for that insert to commit).
    const prior =
      task.idempotencyKey === undefined ? null : await this.taskByKey(task.tenant, task.idempotencyKey);
    if (!prior) throw new Error('task insert neither stored nor matched an idempotency key');
    return { taskId: prior, created: false };
  }

  async getTask(taskId: string): Promise<TaskRecord | null> {
    const [r] = await this.#q('getTask', `SELECT ${TASK_COLUMNS} FROM hive_tasks WHERE task_id = $1`, [
      taskId,
    ]);
    return r ? toTask(r) : null;
  }

  async leaseNext(agent: Lessee, now: number, leaseExpires: number): Promise<LeasedTask | null> {
    if (agent.capabilities.length === 0) return null;
    const [r] = await this.#q('leaseNext', this.#sql.leaseNext, [
      agent.agentId,
      agent.tenant,
      leaseExpires,
      now,
      agent.capabilities,
      agent.shared,
    ]);
    return r ? toLeased(r) : null;
  }

  async complete(...[taskId, agentId, status, outputJson, now]: CompleteArgs): Promise<boolean> {
    const rows = await this.#q(
      'complete',
      `UPDATE hive_tasks SET state = $1, result_status = $2, result_output = $3, completed_by = lease_agent,
         lease_expires = NULL, updated_at = $4
       WHERE task_id = $5 AND state = 'leased' AND lease_agent = $6 AND lease_expires > $4
       RETURNING task_id`,
      [status === 'ok' ? 'succeeded' : 'failed', status, outputJson, now, taskId, agentId],
    );
    return rows.length === 1;
  }

  async release(taskId: string, agentId: string, now: number): Promise<Requeued | null> {
    const [r] = await this.#q('release', this.#sql.release, [now, taskId, agentId]);
    return r ? toRequeued(r) : null;
  }

  async cancelTask(taskId: string, now: number): Promise<CancelledTask | null> {
    // A queued task has no lease expiry (insert and END_LEASE leave it NULL): a non-NULL one means
    // it was leased. A lease another replica is taking right now is waited for (row lock), then
    // cancelled as leased.
    const [r] = await this.#q(
      'cancelTask',
      `UPDATE hive_tasks SET state = 'cancelled', updated_at = $2
       WHERE task_id = $1 AND state IN ('queued', 'leased')
       RETURNING task_id, tenant, capability,
         CASE WHEN lease_expires IS NULL THEN NULL ELSE lease_agent END AS lease_agent`,
      [taskId, now],
    );
    return r ? toCancelled(r) : null;
  }

  async renewLeases(
    agentId: string,
    taskIds: readonly string[],
    now: number,
    leaseExpires: number,
  ): Promise<string[]> {
    if (taskIds.length === 0) return [];
    // Row locks order this against a sweep or a result on another replica: whichever commits first
    // wins, and a lease that ran out before this statement is left to the sweep (not revived).
    const rows = await this.#q(
      'renewLeases',
      `UPDATE hive_tasks SET lease_expires = GREATEST(lease_expires, $4)
       WHERE task_id = ANY($2::text[]) AND state = 'leased' AND lease_agent = $1 AND lease_expires > $3
       RETURNING task_id`,
      [agentId, [...taskIds], now, leaseExpires],
    );
    return rows.map((r) => str(r.task_id));
  }

  async cancelledLeases(agentId: string, now: number): Promise<string[]> {
    const rows = await this.#q(
      'cancelledLeases',
      `SELECT task_id FROM hive_tasks
       WHERE state = 'cancelled' AND lease_agent = $1 AND lease_expires IS NOT NULL AND lease_expires > $2
       ORDER BY seq LIMIT ${MAX_CANCELS_PER_HEARTBEAT}`,
      [agentId, now],
    );
    return rows.map((r) => str(r.task_id));
  }

  async taskByKey(tenant: string, idempotencyKey: string): Promise<string | null> {
    const [r] = await this.#q(
      'taskByKey',
      'SELECT task_id FROM hive_tasks WHERE tenant = $1 AND idempotency_key = $2',
      [tenant, idempotencyKey],
    );
    return r ? str(r.task_id) : null;
  }

  async expireLeases(now: number): Promise<Requeued[]> {
    return (await this.#q('expireLeases', this.#sql.expireLeases, [now])).map(toRequeued);
  }

  async expireQueued(now: number): Promise<Requeued[]> {
    const rows = await this.#q(
      'expireQueued',
      `UPDATE hive_tasks SET state = 'expired', updated_at = $1
       WHERE seq IN (SELECT seq FROM hive_tasks WHERE state = 'queued' AND expires_at <= $1
                     FOR UPDATE SKIP LOCKED)
       RETURNING task_id, tenant, capability, state`,
      [now],
    );
    return rows.map(toRequeued);
  }

  async queueStats(): Promise<QueueStat[]> {
    const rows = await this.#q(
      'queueStats',
      `SELECT capability, COUNT(*) AS depth, MIN(created_at) AS oldest FROM hive_tasks
       WHERE state = 'queued' GROUP BY capability`,
      [],
    );
    return rows.map(toQueueStat);
  }

  async recentTasks(limit: number): Promise<RecentTask[]> {
    const rows = await this.#q(
      'recentTasks',
      `SELECT task_id, tenant, capability, state, created_at, updated_at FROM hive_tasks
       ORDER BY seq DESC LIMIT $1`,
      [limit],
    );
    return rows.map(toRecentTask);
  }

  async nextDeadlines(): Promise<Deadlines> {
    const [r] = await this.#q(
      'deadlines',
      `SELECT (SELECT MIN(lease_expires) FROM hive_tasks WHERE state = 'leased') AS lease,
              (SELECT MIN(expires_at) FROM hive_tasks WHERE state = 'queued') AS ttl,
              (SELECT MIN(last_heartbeat) FROM hive_agents WHERE state IN ('live', 'draining')) AS heartbeat`,
      [],
    );
    return toDeadlines(r!);
  }

  async close(): Promise<void> {
    await this.#events.close();
    await this.#pool.end().catch(() => undefined);
  }
}
