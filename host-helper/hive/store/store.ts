// The coordinator's persistence contract: every method is async so that a networked database
// (PostgreSQL, a later issue) can sit behind the same interface as the SQLite one. Each method is
// one atomic step; conditional updates (lease, complete, release) report whether they applied.
// Times are epoch milliseconds; task input/output cross this boundary as JSON text.
import type {
  AgentState,
  CapabilityDescriptor,
  ResultStatus,
  TaskState,
} from '../../../src/protocol/index.ts';

export interface TenantRecord {
  tenant: string;
  shared: boolean;
}

/** A tenant found by its token hash (the hash comes along for a constant-time comparison). */
export type TenantByHash = TenantRecord & { tokenHash: Buffer };

export interface AgentRecord {
  agentId: string;
  tenant: string;
  capabilities: string[];
  identityHash: string;
  version: string;
  os: string;
  state: AgentState;
  lastHeartbeat: number;
  /** The agent's tenant is a shared lane (joined from the tenants table). */
  shared: boolean;
}

export type AgentRegistration = Pick<
  AgentRecord,
  'agentId' | 'tenant' | 'capabilities' | 'identityHash' | 'version' | 'os'
> & {
  /** What the agent said about its capabilities (validated by the protocol); none replaces earlier ones. */
  descriptors?: readonly CapabilityDescriptor[] | undefined;
};

/**
 * A live agent as the capability catalog sees it: what it serves, what it said about that, and
 * when it last registered (the newest registration's description wins among equals). Kept apart
 * from AgentRecord so that polls and heartbeats never read descriptors.
 */
export interface CatalogAgent {
  agentId: string;
  tenant: string;
  shared: boolean;
  capabilities: string[];
  descriptors: CapabilityDescriptor[];
  registeredAt: number;
}

/** A task as stored, without its input (only a lease hands the input out; it may be up to 1 MiB). */
export interface TaskRecord {
  taskId: string;
  tenant: string;
  capability: string;
  state: TaskState;
  createdAt: number;
  expiresAt: number;
  /** The agent (and its tenant) holding the lease, or that held it last. */
  leaseAgent: string | null;
  leaseTenant: string | null;
  leaseExpires: number | null;
  resultStatus: ResultStatus | null;
  resultOutputJson: string | null;
  completedBy: string | null;
}

export interface NewTask {
  taskId: string;
  tenant: string;
  capability: string;
  inputJson: string;
  expiresAt: number;
  idempotencyKey?: string | undefined;
  /** Its depth in a chain of tool calls (protocol TaskDepth; 0 when absent). */
  depth?: number | undefined;
  /** Store it already leased to this agent (a submit handing it to a waiting poll). */
  lease?: { agentId: string; tenant: string; expires: number } | undefined;
}

export interface LeasedTask {
  taskId: string;
  tenant: string;
  capability: string;
  inputJson: string;
  leaseExpires: number;
  depth: number;
}

/** A task whose lease ended without a result: back in the queue, or expired past its TTL. */
export interface Requeued {
  taskId: string;
  tenant: string;
  capability: string;
  state: TaskState;
}

/** A task just cancelled: who submitted it, and the agent it was leased to (null if it was queued). */
export interface CancelledTask {
  taskId: string;
  tenant: string;
  capability: string;
  leaseAgent: string | null;
}

export interface QueueStat {
  capability: string;
  depth: number;
  oldestCreatedAt: number;
}

/** A task as the live view lists it: no input, no output. */
export interface RecentTask {
  taskId: string;
  tenant: string;
  capability: string;
  state: TaskState;
  createdAt: number;
  updatedAt: number;
}

export interface Lessee {
  agentId: string;
  tenant: string;
  shared: boolean;
  capabilities: readonly string[];
}

export interface Deadlines {
  /** Earliest expiry of a live lease. */
  lease: number | null;
  /** Earliest TTL end of a queued task. */
  ttl: number | null;
  /** Oldest heartbeat of a live or draining agent. */
  heartbeat: number | null;
}

/** complete's arguments: the task, the agent that must still hold its lease, the result, the time. */
export type CompleteArgs = [
  taskId: string,
  agentId: string,
  status: ResultStatus,
  outputJson: string,
  now: number,
];

export interface HiveStore {
  /** Replaces the tenant's token hash (the old token stops working) and its shared flag. */
  setTenantToken(tenant: string, tokenHash: Buffer, shared: boolean, now: number): Promise<void>;
  /** Removes the tenant's token; false if it had none. */
  revokeTenantToken(tenant: string, now: number): Promise<boolean>;
  tenantByTokenHash(tokenHash: Buffer): Promise<TenantByHash | null>;

  getAgent(agentId: string): Promise<AgentRecord | null>;
  /** Creates or updates (same tenant, checked by the caller) an agent; it becomes live. */
  upsertAgent(reg: AgentRegistration, now: number): Promise<AgentRecord>;
  /** Records a heartbeat; a lost agent comes back (live, or draining if a drain was asked). Null if unknown or gone. */
  heartbeat(agentId: string, now: number): Promise<AgentRecord | null>;
  setAgentState(agentId: string, state: AgentState): Promise<void>;
  /** Marks the agent gone and requeues its leases. */
  deregister(agentId: string, now: number): Promise<Requeued[]>;
  listAgents(): Promise<AgentRecord[]>;
  /**
   * Live agents that serve `tenant` (its own and live shared lanes'), with their descriptors;
   * every live agent when `tenant` is null (the admin's view).
   */
  catalogAgents(tenant: string | null): Promise<CatalogAgent[]>;
  /** Marks agents whose last heartbeat is at or before `cutoff` lost and requeues their leases. */
  markLost(cutoff: number, now: number): Promise<{ agents: string[]; requeued: Requeued[] }>;

  /** Stores a task durably; with an idempotency key already used by the tenant, returns that task. */
  insertTask(task: NewTask, now: number): Promise<{ taskId: string; created: boolean }>;
  getTask(taskId: string): Promise<TaskRecord | null>;
  /** Atomically leases the oldest queued, unexpired task the agent may serve (routing of §5). */
  leaseNext(agent: Lessee, now: number, leaseExpires: number): Promise<LeasedTask | null>;
  /** Records a result if the agent still holds a live lease; false otherwise. */
  complete(...args: CompleteArgs): Promise<boolean>;
  /** Hands a live lease back (queued, or expired past TTL); null if the agent did not hold it. */
  release(taskId: string, agentId: string, now: number): Promise<Requeued | null>;
  /**
   * Cancels a queued or leased task (state `cancelled`; a lease keeps its agent and expiry so that
   * agent's heartbeat can be told); null if the task is unknown or already finished.
   */
  cancelTask(taskId: string, now: number): Promise<CancelledTask | null>;
  /**
   * Renews the leases among `taskIds` that `agentId` holds live at `now` (leased to it, not run
   * out): each then expires at `leaseExpires` (never earlier than it did). Returns the renewed ids;
   * another agent's lease, a run-out, finished, cancelled or unknown task is left alone.
   */
  renewLeases(
    agentId: string,
    taskIds: readonly string[],
    now: number,
    leaseExpires: number,
  ): Promise<string[]>;
  /** Tasks cancelled while leased to `agentId` whose lease has not run out at `now`. */
  cancelledLeases(agentId: string, now: number): Promise<string[]>;
  /** The task a tenant submitted with this idempotency key, if any. */
  taskByKey(tenant: string, idempotencyKey: string): Promise<string | null>;
  /** Ends every lease that expired at `now`. */
  expireLeases(now: number): Promise<Requeued[]>;
  /** Expires queued tasks whose TTL ended (state 'expired'). */
  expireQueued(now: number): Promise<Requeued[]>;
  nextDeadlines(): Promise<Deadlines>;
  /** What waits per capability: queued tasks and the creation time of the oldest (metrics, /ui). */
  queueStats(): Promise<QueueStat[]>;
  /** The newest tasks, newest first (the /ui live view). */
  recentTasks(limit: number): Promise<RecentTask[]>;
  close(): Promise<void>;
  /**
   * Optional, for a store shared by several coordinator replicas (PostgreSQL): calls `listener`
   * for every change another replica committed that this one must react to. Returns an unsubscribe.
   */
  subscribe?(listener: (e: StoreEvent) => void): () => void;
}

/** A change committed by another coordinator replica sharing the store. */
export type StoreEvent =
  /** A task was stored or requeued: wake a poll that may serve it (if queued), sweep by `deadline`. */
  | { kind: 'task'; taskId: string; tenant: string; capability: string; queued: boolean; deadline: number }
  /** An agent registered (live: watch its heartbeats) or stopped serving (drain, lost, gone). */
  | { kind: 'agent'; agentId: string; live: boolean }
  /** A tenant's token was replaced or revoked: polls authorized by the old one must re-authenticate. */
  | { kind: 'tenant'; tenant: string }
  /** Events may have been missed (the listening connection was re-established): re-check everything. */
  | { kind: 'resync' };
