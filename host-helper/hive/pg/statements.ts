// The SQL text of the PostgreSQL hive store's writing statements, built once per replica: a change
// other replicas must react to is announced (notify.ts) by the statement that commits it, tagged
// with this replica's origin id so it can skip its own. Leases and sweeps take rows FOR UPDATE SKIP
// LOCKED, so replicas never wait on each other's claims. In: the origin id; out: statement texts.
// No I/O here.
import { sqlNotify } from './notify.ts';
import { AGENT_SELECT, CHANNEL, END_LEASE } from './schema.ts';

/** The statement texts that carry notifications (they embed this replica's origin id). */
export function statements(origin: string) {
  const requeuedTask = sqlNotify.task(origin, 'task_id', 'tenant', 'capability', 'true', 'expires_at');
  /** Returns requeued rows and notifies the queued ones (replicas may have a poll that can serve it). */
  const requeue = (update: string): string =>
    `WITH r AS (${update} RETURNING task_id, tenant, capability, state, expires_at)
     SELECT task_id, tenant, capability, state, CASE WHEN state = 'queued' THEN ${requeuedTask} END AS n FROM r`;
  return {
    setToken: `WITH u AS (
        INSERT INTO hive_tenants (tenant, token_hash, shared, updated_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (tenant) DO UPDATE SET token_hash = excluded.token_hash, shared = excluded.shared,
          updated_at = excluded.updated_at
        RETURNING tenant)
      SELECT ${sqlNotify.tenant(origin, 'tenant')} FROM u`,
    revokeToken: `WITH u AS (
        UPDATE hive_tenants SET token_hash = NULL, updated_at = $2 WHERE tenant = $1 AND token_hash IS NOT NULL
        RETURNING tenant)
      SELECT ${sqlNotify.tenant(origin, 'tenant')} FROM u`,
    upsertAgent: `WITH u AS (
        INSERT INTO hive_agents (agent_id, tenant, capabilities, identity_hash, version, os, state,
          last_heartbeat, registered_at)
        VALUES ($1, $2, $3, $4, $5, $6, 'live', $7, $7)
        ON CONFLICT (agent_id) DO UPDATE SET capabilities = excluded.capabilities,
          identity_hash = excluded.identity_hash, version = excluded.version, os = excluded.os,
          state = 'live', drain = false, last_heartbeat = excluded.last_heartbeat
        WHERE hive_agents.tenant = excluded.tenant
        RETURNING *),
      -- Only a registration that applied (not another tenant's id) replaces the descriptors.
      d AS (
        INSERT INTO hive_agent_descriptors (agent_id, descriptors, registered_at)
        SELECT agent_id, $8, $7 FROM u
        ON CONFLICT (agent_id) DO UPDATE SET descriptors = excluded.descriptors,
          registered_at = excluded.registered_at)
      SELECT a.*, COALESCE(t.shared, false) AS shared, ${sqlNotify.agent(origin, 'a.agent_id', true)} AS n
      FROM u a LEFT JOIN hive_tenants t ON t.tenant = a.tenant`,
    heartbeat: `WITH u AS (
        UPDATE hive_agents SET last_heartbeat = $2,
          state = CASE WHEN state <> 'lost' THEN state WHEN drain THEN 'draining' ELSE 'live' END
        WHERE agent_id = $1 AND state <> 'gone' RETURNING *)
      ${AGENT_SELECT('u')}`,
    setAgentState: `WITH u AS (
        UPDATE hive_agents SET state = $2, drain = CASE WHEN $2 = 'draining' THEN true ELSE drain END
        WHERE agent_id = $1 RETURNING agent_id, state)
      SELECT CASE WHEN state <> 'live' THEN ${sqlNotify.agent(origin, 'agent_id', false)} END FROM u`,
    gone: `WITH u AS (UPDATE hive_agents SET state = 'gone' WHERE agent_id = $1 RETURNING agent_id)
      SELECT ${sqlNotify.agent(origin, 'agent_id', false)} FROM u`,
    markLost: `WITH u AS (
        UPDATE hive_agents SET state = 'lost'
        WHERE agent_id IN (SELECT agent_id FROM hive_agents
                           WHERE state IN ('live', 'draining') AND last_heartbeat <= $1 FOR UPDATE SKIP LOCKED)
        RETURNING agent_id)
      SELECT agent_id, ${sqlNotify.agent(origin, 'agent_id', false)} AS n FROM u`,
    releaseAgent: requeue(
      `UPDATE hive_tasks SET ${END_LEASE} WHERE state = 'leased' AND lease_agent = ANY($2::text[])`,
    ),
    insertTask: `WITH ins AS (
        INSERT INTO hive_tasks (task_id, tenant, capability, input, state, created_at, expires_at,
          idempotency_key, lease_agent, lease_tenant, lease_expires, depth, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $6)
        ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING task_id)
      SELECT task_id, pg_notify('${CHANNEL}', $13) FROM ins`,
    // Same rule as routing.canServe: own tenant or shared lane, and a registered capability. SKIP
    // LOCKED: a row another replica is leasing right now is passed over, not waited for.
    leaseNext: `UPDATE hive_tasks SET state = 'leased', lease_agent = $1, lease_tenant = $2,
        lease_expires = $3, updated_at = $4
      WHERE seq = (SELECT seq FROM hive_tasks
                   WHERE state = 'queued' AND capability = ANY($5::text[]) AND expires_at > $4
                     AND (tenant = $2 OR $6::boolean)
                   ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING task_id, tenant, capability, input, lease_expires, depth`,
    release: requeue(
      `UPDATE hive_tasks SET ${END_LEASE}
       WHERE task_id = $2 AND state = 'leased' AND lease_agent = $3 AND lease_expires > $1`,
    ),
    expireLeases: requeue(
      `UPDATE hive_tasks SET ${END_LEASE}
       WHERE seq IN (SELECT seq FROM hive_tasks WHERE state = 'leased' AND lease_expires <= $1
                     FOR UPDATE SKIP LOCKED)`,
    ),
  };
}
