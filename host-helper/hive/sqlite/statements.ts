// The SQL text of the SQLite hive store's statements (prepared once each, on first use). A lease
// takes the oldest queued, unexpired task the agent may serve — own tenant or shared lane, and a
// registered capability (the rule of routing.canServe) — walking tasks_queued in seq order per
// capability, so a deep backlog costs no sort; an agent of one capability (the common case) needs
// no json_each over a list. No I/O here.
import { MAX_CANCELS_PER_HEARTBEAT } from '../../../src/protocol/index.ts';
import { AGENT_COLUMNS, END_LEASE, TASK_COLUMNS } from './schema.ts';

const LEASE = `UPDATE tasks SET state = 'leased', lease_agent = $agent, lease_tenant = $tenant,
    lease_expires = $leaseExpires, updated_at = $now
  WHERE seq = `;
const LEASED = 'RETURNING task_id, tenant, capability, input, created_at, expires_at, lease_expires, depth';

export const SQL = {
  countQueued: "SELECT COUNT(*) AS n FROM tasks WHERE state = 'queued'",
  setTenantToken: `INSERT INTO tenants (tenant, token_hash, shared, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT(tenant) DO UPDATE SET token_hash = excluded.token_hash, shared = excluded.shared,
    updated_at = excluded.updated_at`,
  revokeTenantToken:
    'UPDATE tenants SET token_hash = NULL, updated_at = ? WHERE tenant = ? AND token_hash IS NOT NULL',
  tenantByTokenHash: 'SELECT tenant, shared, token_hash FROM tenants WHERE token_hash = ?',
  agent: `SELECT ${AGENT_COLUMNS} WHERE a.agent_id = ?`,
  upsertAgent: `INSERT INTO agents (agent_id, tenant, capabilities, identity_hash, version, os, state, last_heartbeat, registered_at)
    VALUES (?, ?, ?, ?, ?, ?, 'live', ?, ?)
    ON CONFLICT(agent_id) DO UPDATE SET capabilities = excluded.capabilities,
    identity_hash = excluded.identity_hash, version = excluded.version, os = excluded.os,
    state = 'live', drain = 0, last_heartbeat = excluded.last_heartbeat
    WHERE agents.tenant = excluded.tenant`,
  heartbeat: `UPDATE agents SET last_heartbeat = ?,
    state = CASE WHEN state != 'lost' THEN state WHEN drain = 1 THEN 'draining' ELSE 'live' END
    WHERE agent_id = ? AND state != 'gone'`,
  setAgentState:
    "UPDATE agents SET state = ?, drain = CASE WHEN ? = 'draining' THEN 1 ELSE drain END WHERE agent_id = ?",
  releaseAgentLeases: `UPDATE tasks SET ${END_LEASE} WHERE state = 'leased' AND lease_agent = $agent
    RETURNING task_id, tenant, capability, state`,
  upsertDescriptors: `INSERT INTO agent_descriptors (agent_id, descriptors, registered_at) VALUES (?, ?, ?)
    ON CONFLICT(agent_id) DO UPDATE SET descriptors = excluded.descriptors, registered_at = excluded.registered_at`,
  // The catalog's agents: live, and the tenant's own or a shared lane's with a token (all for the admin).
  catalogAgents: `SELECT a.agent_id, a.tenant, COALESCE(t.shared, 0) AS shared, a.capabilities, d.descriptors,
      COALESCE(d.registered_at, a.registered_at) AS registered_at
    FROM agents a LEFT JOIN tenants t ON t.tenant = a.tenant LEFT JOIN agent_descriptors d ON d.agent_id = a.agent_id
    WHERE a.state = 'live'
      AND ($tenant IS NULL OR a.tenant = $tenant OR (t.shared = 1 AND t.token_hash IS NOT NULL))
    ORDER BY a.agent_id`,
  deregister: "UPDATE agents SET state = 'gone' WHERE agent_id = ?",
  listAgents: `SELECT ${AGENT_COLUMNS} ORDER BY a.agent_id`,
  markLost: `UPDATE agents SET state = 'lost' WHERE state IN ('live', 'draining') AND last_heartbeat <= ?
    RETURNING agent_id`,
  taskByIdempotencyKey: 'SELECT task_id FROM tasks WHERE tenant = ? AND idempotency_key = ?',
  insertTask: `INSERT INTO tasks (task_id, tenant, capability, input, state, created_at, expires_at, idempotency_key,
    lease_agent, lease_tenant, lease_expires, depth, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  task: `SELECT ${TASK_COLUMNS} FROM tasks WHERE task_id = ?`,
  complete: `UPDATE tasks SET state = ?, result_status = ?, result_output = ?, completed_by = lease_agent,
    lease_expires = NULL, updated_at = ?
    WHERE task_id = ? AND state = 'leased' AND lease_agent = ? AND lease_expires > ?`,
  release: `UPDATE tasks SET ${END_LEASE}
    WHERE task_id = $task AND state = 'leased' AND lease_agent = $agent AND lease_expires > $now
    RETURNING task_id, tenant, capability, state`,
  // A queued task has no lease expiry (insert and END_LEASE leave it NULL): a non-NULL one means it
  // was leased, and its agent is returned so the caller can tell who holds it.
  cancel: `UPDATE tasks SET state = 'cancelled', updated_at = $now
    WHERE task_id = $task AND state IN ('queued', 'leased')
    RETURNING task_id, tenant, capability, CASE WHEN lease_expires IS NULL THEN NULL ELSE lease_agent END AS lease_agent`,
  // Lease renewal by the holder's heartbeat: only its own live leases (a run-out one is the sweep's).
  renewLeases: `UPDATE tasks SET lease_expires = MAX(lease_expires, $leaseExpires)
    WHERE task_id IN (SELECT value FROM json_each($tasks)) AND state = 'leased' AND lease_agent = $agent
      AND lease_expires > $now
    RETURNING task_id, lease_expires`,
  cancelledLeases: `SELECT task_id FROM tasks
    WHERE state = 'cancelled' AND lease_agent = ? AND lease_expires IS NOT NULL AND lease_expires > ?
    ORDER BY seq LIMIT ${MAX_CANCELS_PER_HEARTBEAT}`,
  expireLeases: `UPDATE tasks SET ${END_LEASE} WHERE state = 'leased' AND lease_expires <= $now
    RETURNING task_id, tenant, capability, state`,
  expireQueued: `UPDATE tasks SET state = 'expired', updated_at = ? WHERE state = 'queued' AND expires_at <= ?
    RETURNING task_id, tenant, capability, state`,
  // The partial index tasks_queued holds exactly the queued rows, grouped by capability.
  queueStats: `SELECT capability, COUNT(*) AS depth, MIN(created_at) AS oldest FROM tasks
    WHERE state = 'queued' GROUP BY capability`,
  recentTasks: `SELECT task_id, tenant, capability, state, created_at, updated_at FROM tasks
    ORDER BY seq DESC LIMIT ?`,
  nextDeadlines: `SELECT (SELECT MIN(lease_expires) FROM tasks WHERE state = 'leased') AS lease,
    (SELECT MIN(expires_at) FROM tasks WHERE state = 'queued') AS ttl,
    (SELECT MIN(last_heartbeat) FROM agents WHERE state IN ('live', 'draining')) AS heartbeat`,
  leaseOne: `${LEASE}(SELECT seq FROM tasks WHERE state = 'queued' AND capability = $caps
    AND expires_at > $now AND (tenant = $tenant OR $shared = 1) ORDER BY seq LIMIT 1)
  ${LEASED}`,
  leaseAny: `${LEASE}(SELECT MIN((SELECT seq FROM tasks WHERE state = 'queued' AND capability = c.value
      AND expires_at > $now AND (tenant = $tenant OR $shared = 1) ORDER BY seq LIMIT 1))
    FROM json_each($caps) AS c)
  ${LEASED}`,
} as const;
