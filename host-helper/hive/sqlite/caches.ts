// In-memory copies the SQLite store keeps of rows that requests read all the time: the tenant of a
// token hash (every request authenticates), agents by id (every poll and heartbeat) and tasks under
// a live lease (every result post reads its task first). They are exact because this process is the
// database's only writer: each write that may change such a row drops or replaces the copy inside
// its own group transaction, and a group that fails as a whole drops everything (store.ts).
// The PostgreSQL store, shared by replicas, must not cache so. Records handed out are frozen.
import type { AgentRecord, TaskRecord, TenantByHash } from '../store/store.ts';

/** Beyond this many live leases, further ones are simply read from the database. */
const MAX_LEASES = 20_000;

export class StoreCaches {
  /** Token hash (hex) → tenant. Unknown hashes are never stored: guessing must not grow the map. */
  readonly tokens = new Map<string, TenantByHash>();
  readonly #agents = new Map<string, AgentRecord>();
  readonly #leases = new Map<string, TaskRecord>();

  agent(agentId: string): AgentRecord | undefined {
    return this.#agents.get(agentId);
  }

  keepAgent(a: AgentRecord): AgentRecord {
    Object.freeze(a.capabilities);
    this.#agents.set(a.agentId, Object.freeze(a));
    return a;
  }

  dropAgent(agentId: string): void {
    this.#agents.delete(agentId);
  }

  /** A tenant's token or shared flag changed: its agents' records (which carry `shared`) too. */
  tenantChanged(): void {
    this.tokens.clear();
    this.#agents.clear();
  }

  lease(taskId: string): TaskRecord | undefined {
    return this.#leases.get(taskId);
  }

  /** A task was just leased: the record a result post for it will read. */
  keepLease(t: TaskRecord): void {
    if (this.#leases.size < MAX_LEASES) this.#leases.set(t.taskId, Object.freeze(t));
  }

  /** A live lease was renewed: its cached copy (if any) carries the new expiry. */
  renewLease(taskId: string, expires: number): void {
    const t = this.#leases.get(taskId);
    if (t) this.#leases.set(taskId, Object.freeze({ ...t, leaseExpires: expires }));
  }

  /** A task's lease ended (completed, released, expired, requeued) or the task changed otherwise. */
  dropTask(taskId: string): void {
    this.#leases.delete(taskId);
  }

  clear(): void {
    this.tokens.clear();
    this.#agents.clear();
    this.#leases.clear();
  }
}
