// The PostgreSQL schema of the hive store and its versioned migrations. Versions are rows of
// hive_schema_migrations, applied in order inside one transaction that holds an advisory lock, so
// replicas starting together migrate once and none serves a half-migrated schema. SQL text and the
// migration runner only; row mapping is shared with the SQLite store (rows.ts).
import type { ClientBase } from 'pg';
import { ClawdieError } from '../../../src/errors.ts';

export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE hive_tenants (
     tenant text PRIMARY KEY,
     token_hash bytea UNIQUE,
     shared boolean NOT NULL DEFAULT false,
     updated_at bigint NOT NULL
   );
   CREATE TABLE hive_agents (
     agent_id text PRIMARY KEY,
     tenant text NOT NULL,
     capabilities text NOT NULL,
     identity_hash text NOT NULL,
     version text NOT NULL,
     os text NOT NULL,
     state text NOT NULL,
     drain boolean NOT NULL DEFAULT false,
     last_heartbeat bigint NOT NULL,
     registered_at bigint NOT NULL
   );
   CREATE INDEX hive_agents_serving ON hive_agents (last_heartbeat) WHERE state IN ('live', 'draining');
   CREATE TABLE hive_tasks (
     seq bigserial PRIMARY KEY,
     task_id text NOT NULL UNIQUE,
     tenant text NOT NULL,
     capability text NOT NULL,
     input text NOT NULL,
     state text NOT NULL,
     created_at bigint NOT NULL,
     expires_at bigint NOT NULL,
     idempotency_key text,
     lease_agent text,
     lease_tenant text,
     lease_expires bigint,
     result_status text,
     result_output text,
     completed_by text,
     updated_at bigint NOT NULL
   );
   CREATE UNIQUE INDEX hive_tasks_idempotency ON hive_tasks (tenant, idempotency_key)
     WHERE idempotency_key IS NOT NULL;
   CREATE INDEX hive_tasks_queued ON hive_tasks (capability, seq) WHERE state = 'queued';
   CREATE INDEX hive_tasks_queued_ttl ON hive_tasks (expires_at) WHERE state = 'queued';
   CREATE INDEX hive_tasks_leased ON hive_tasks (lease_expires) WHERE state = 'leased';`,
  // v2: a task's depth in a chain of tool calls (protocol MAX_TOOL_DEPTH), handed out with its lease.
  'ALTER TABLE hive_tasks ADD COLUMN depth integer NOT NULL DEFAULT 0;',
  // v3: what each agent said about its capabilities at its latest registration (the catalog's
  // descriptions and input schemas), apart from hive_agents so that heartbeats and polls, which
  // rewrite and read that row, never carry them.
  `CREATE TABLE hive_agent_descriptors (
     agent_id text PRIMARY KEY,
     descriptors text NOT NULL,
     registered_at bigint NOT NULL
   );`,
  // v4: cancelled tasks (state 'cancelled', a new value of the same column). A task cancelled while
  // leased keeps its agent and lease expiry so that the agent's heartbeat is told; this index finds
  // them per agent (only cancelled leases are in it: the heartbeat of an idle agent reads nothing).
  `CREATE INDEX hive_tasks_cancelled_lease ON hive_tasks (lease_agent)
     WHERE state = 'cancelled' AND lease_expires IS NOT NULL;`,
];

/** Any fixed 63-bit number: the advisory lock key that serializes migrations across replicas. */
const MIGRATION_LOCK_KEY = '7301620174126854465';

export class SchemaError extends ClawdieError {}

/**
 * Brings the schema to the latest version; returns the version found before. Refuses a database
 * migrated by a newer coordinator (its schema may mean things this one does not know).
 */
export async function migrate(client: ClientBase): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS hive_schema_migrations (
      version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const r = await client.query<{ v: number }>(
      'SELECT COALESCE(MAX(version), 0)::int AS v FROM hive_schema_migrations',
    );
    const found = Number(r.rows[0]!.v);
    if (found > MIGRATIONS.length) {
      throw new SchemaError(
        `database schema is version ${found}, newer than this coordinator knows (${MIGRATIONS.length})`,
      );
    }
    for (let v = found; v < MIGRATIONS.length; v++) {
      await client.query(MIGRATIONS[v]!);
      await client.query('INSERT INTO hive_schema_migrations (version) VALUES ($1)', [v + 1]);
    }
    await client.query('COMMIT');
    return found;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The channel every replica LISTENs on; payloads are `NotifyPayload` JSON (notify.ts). */
export const CHANNEL = 'clawdie_hive';

/** Ends a lease: back to queued, or expired once the TTL has passed (mirrors routing.requeueState). */
export const END_LEASE = `state = CASE WHEN expires_at <= $1 THEN 'expired' ELSE 'queued' END,
  lease_expires = NULL, updated_at = $1`;

export const TASK_COLUMNS = `task_id, tenant, capability, state, created_at, expires_at, lease_agent,
  lease_tenant, lease_expires, result_status, result_output, completed_by`;

/** Agents with their tenant's shared flag, as the SQLite store's AGENT_COLUMNS (same row mapping). */
export const AGENT_SELECT = (from: string): string =>
  `SELECT a.*, COALESCE(t.shared, false) AS shared FROM ${from} a LEFT JOIN hive_tenants t ON t.tenant = a.tenant`;
