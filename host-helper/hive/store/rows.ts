// Database rows ↔ the store's records, shared by the SQLite and PostgreSQL stores (their columns
// have the same names): rows in (as the drivers return them: numbers may come as bigint or text,
// booleans as 0/1 or true/false), records out; and a new task's or agent's column values in insert
// order.
// Pure, no I/O.
import type {
  AgentState,
  CapabilityDescriptor,
  ResultStatus,
  TaskState,
} from '../../../src/protocol/index.ts';
import type {
  AgentRecord,
  AgentRegistration,
  CancelledTask,
  CatalogAgent,
  Deadlines,
  LeasedTask,
  NewTask,
  QueueStat,
  RecentTask,
  Requeued,
  TaskRecord,
  TenantByHash,
} from './store.ts';

export type Row = Record<string, unknown>;

export const str = (v: unknown): string => String(v);
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** SQLite's 0/1 and PostgreSQL's false/true alike. */
const bool = (v: unknown): boolean => Number(v ?? 0) === 1;

export function toTenant(r: Row): TenantByHash {
  return {
    tenant: str(r.tenant),
    shared: bool(r.shared),
    tokenHash: Buffer.from(r.token_hash as Uint8Array),
  };
}

export function toAgent(r: Row): AgentRecord {
  return {
    agentId: str(r.agent_id),
    tenant: str(r.tenant),
    capabilities: JSON.parse(str(r.capabilities)) as string[],
    identityHash: str(r.identity_hash),
    version: str(r.version),
    os: str(r.os),
    state: str(r.state) as AgentState,
    lastHeartbeat: Number(r.last_heartbeat),
    shared: bool(r.shared),
  };
}

/** A catalog row: an agent's id, tenant, shared flag, capabilities, descriptors (JSON or null), registered_at. */
export function toCatalogAgent(r: Row): CatalogAgent {
  return {
    agentId: str(r.agent_id),
    tenant: str(r.tenant),
    shared: bool(r.shared),
    capabilities: JSON.parse(str(r.capabilities)) as string[],
    descriptors: r.descriptors == null ? [] : (JSON.parse(str(r.descriptors)) as CapabilityDescriptor[]),
    registeredAt: Number(r.registered_at),
  };
}

/** A registration's descriptors as stored (validated by the protocol on the way in). */
export const descriptorsJson = (reg: AgentRegistration): string => JSON.stringify(reg.descriptors ?? []);

export function toTask(r: Row): TaskRecord {
  return {
    taskId: str(r.task_id),
    tenant: str(r.tenant),
    capability: str(r.capability),
    state: str(r.state) as TaskState,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    leaseAgent: strOrNull(r.lease_agent),
    leaseTenant: strOrNull(r.lease_tenant),
    leaseExpires: numOrNull(r.lease_expires),
    resultStatus: strOrNull(r.result_status) as ResultStatus | null,
    resultOutputJson: strOrNull(r.result_output),
    completedBy: strOrNull(r.completed_by),
  };
}

export const toRequeued = (r: Row): Requeued => ({
  taskId: str(r.task_id),
  tenant: str(r.tenant),
  capability: str(r.capability),
  state: str(r.state) as TaskState,
});

/** A row returned by a cancel statement (task_id, tenant, capability, lease_agent: null when it was queued). */
export const toCancelled = (r: Row): CancelledTask => ({
  taskId: str(r.task_id),
  tenant: str(r.tenant),
  capability: str(r.capability),
  leaseAgent: strOrNull(r.lease_agent),
});

export const toQueueStat = (r: Row): QueueStat => ({
  capability: str(r.capability),
  depth: Number(r.depth),
  oldestCreatedAt: Number(r.oldest),
});

export const toRecentTask = (r: Row): RecentTask => ({
  taskId: str(r.task_id),
  tenant: str(r.tenant),
  capability: str(r.capability),
  state: str(r.state) as TaskState,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

/** A row returned by a lease statement (task_id, tenant, capability, input, lease_expires, depth). */
export const toLeased = (r: Row): LeasedTask => ({
  taskId: str(r.task_id),
  tenant: str(r.tenant),
  capability: str(r.capability),
  inputJson: str(r.input),
  leaseExpires: Number(r.lease_expires),
  depth: Number(r.depth ?? 0),
});

/** The row of the next-deadlines query (columns lease, ttl, heartbeat; each null when none). */
export const toDeadlines = (r: Row): Deadlines => ({
  lease: numOrNull(r.lease),
  ttl: numOrNull(r.ttl),
  heartbeat: numOrNull(r.heartbeat),
});

/**
 * A registering agent's values for the columns agent_id, tenant, capabilities, identity_hash,
 * version, os (in that order; each store appends its timestamps).
 */
export function agentValues(reg: AgentRegistration): string[] {
  return [reg.agentId, reg.tenant, JSON.stringify(reg.capabilities), reg.identityHash, reg.version, reg.os];
}

/**
 * A new task's values for the columns task_id, tenant, capability, input, state, created_at,
 * expires_at, idempotency_key, lease_agent, lease_tenant, lease_expires, depth (in that order).
 */
export function taskValues(task: NewTask, now: number): (string | number | null)[] {
  return [
    task.taskId,
    task.tenant,
    task.capability,
    task.inputJson,
    task.lease ? 'leased' : 'queued',
    now,
    task.expiresAt,
    task.idempotencyKey ?? null,
    task.lease?.agentId ?? null,
    task.lease?.tenant ?? null,
    task.lease?.expires ?? null,
    task.depth ?? 0,
  ];
}

/** The record of a task just leased, as a read of its row would return it (no result yet). */
export function leasedRecord(
  t: Pick<TaskRecord, 'taskId' | 'tenant' | 'capability'>,
  createdAt: number,
  expiresAt: number,
  lease: { agentId: string; tenant: string; expires: number },
): TaskRecord {
  return {
    taskId: t.taskId,
    tenant: t.tenant,
    capability: t.capability,
    state: 'leased',
    createdAt,
    expiresAt,
    leaseAgent: lease.agentId,
    leaseTenant: lease.tenant,
    leaseExpires: lease.expires,
    resultStatus: null,
    resultOutputJson: null,
    completedBy: null,
  };
}
