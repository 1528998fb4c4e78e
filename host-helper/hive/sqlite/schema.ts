// The SQLite schema of the hive store (versioned migrations, applied in order through PRAGMA
// user_version) and the column lists its statements share. SQL text only, no I/O; rows become
// records in rows.ts.

export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE tenants (
     tenant TEXT PRIMARY KEY,
     token_hash BLOB UNIQUE,
     shared INTEGER NOT NULL DEFAULT 0,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE agents (
     agent_id TEXT PRIMARY KEY,
     tenant TEXT NOT NULL,
     capabilities TEXT NOT NULL,
     identity_hash TEXT NOT NULL,
     version TEXT NOT NULL,
     os TEXT NOT NULL,
     state TEXT NOT NULL,
     last_heartbeat INTEGER NOT NULL,
     registered_at INTEGER NOT NULL
   );
   CREATE TABLE tasks (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     task_id TEXT NOT NULL UNIQUE,
     tenant TEXT NOT NULL,
     capability TEXT NOT NULL,
     input TEXT NOT NULL,
     state TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     idempotency_key TEXT,
     lease_agent TEXT,
     lease_tenant TEXT,
     lease_expires INTEGER,
     result_status TEXT,
     result_output TEXT,
     completed_by TEXT,
     updated_at INTEGER NOT NULL
   );
   CREATE UNIQUE INDEX tasks_idempotency ON tasks(tenant, idempotency_key) WHERE idempotency_key IS NOT NULL;
   CREATE INDEX tasks_queued ON tasks(capability, seq) WHERE state = 'queued';
   CREATE INDEX tasks_queued_ttl ON tasks(expires_at) WHERE state = 'queued';
   CREATE INDEX tasks_leased ON tasks(lease_expires) WHERE state = 'leased';
   CREATE INDEX tasks_lease_agent ON tasks(lease_agent) WHERE state = 'leased';`,
  // v2: a drain request outlives the agent being lost and coming back (only re-registering clears it).
  `ALTER TABLE agents ADD COLUMN drain INTEGER NOT NULL DEFAULT 0;
   UPDATE agents SET drain = 1 WHERE state = 'draining';`,
  // v3: one index less to write on every lease change; the leased set is small (bounded by the
  // agents), so releasing an agent's leases scans tasks_leased instead.
  'DROP INDEX tasks_lease_agent;',
  // v4: a task's depth in a chain of tool calls (protocol MAX_TOOL_DEPTH), handed out with its lease.
  'ALTER TABLE tasks ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;',
  // v5: what each agent said about its capabilities at its latest registration (the catalog's
  // descriptions and input schemas), apart from the agents row so that heartbeats and polls,
  // which rewrite and read that row, never carry them.
  `CREATE TABLE agent_descriptors (
     agent_id TEXT PRIMARY KEY,
     descriptors TEXT NOT NULL,
     registered_at INTEGER NOT NULL
   );`,
  // v6: cancelled tasks (state 'cancelled', a new value of the same column). A task cancelled while
  // leased keeps its agent and lease expiry so that the agent's heartbeat is told; this index finds
  // them per agent (only cancelled leases are in it: the heartbeat of an idle agent reads nothing).
  `CREATE INDEX tasks_cancelled_lease ON tasks(lease_agent)
     WHERE state = 'cancelled' AND lease_expires IS NOT NULL;`,
];

// The row mapping lives in rows.ts (shared with the PostgreSQL store); re-exported for the importers
// that read rows next to the column lists below (test/unit/hive-sqlite-caches.test.ts).
export { type Row, toAgent, toTask } from '../store/rows.ts';

export const TASK_COLUMNS = `task_id, tenant, capability, state, created_at, expires_at, lease_agent, lease_tenant,
  lease_expires, result_status, result_output, completed_by`;
export const AGENT_COLUMNS =
  'a.*, COALESCE(t.shared, 0) AS shared FROM agents a LEFT JOIN tenants t ON t.tenant = a.tenant';
/** Ends a lease: back to queued, or expired once the TTL has passed (mirrors routing.requeueState). */
export const END_LEASE = `state = CASE WHEN expires_at <= $now THEN 'expired' ELSE 'queued' END,
  lease_expires = NULL, updated_at = $now`;
