// Pure decisions of the coordinator (DESIGN §5): who may serve a task, which waiting agent is woken,
// when leases, TTLs and agents run out, and what a result or release post means for a task.
// No I/O here: the store persists, the waiter registry waits, these functions decide.
import type { TaskState } from '../../src/protocol/index.ts';
import { LOST_AFTER_MISSED_HEARTBEATS } from '../../src/protocol/index.ts';

/** What routing needs to know about a serving agent. */
export interface Server {
  tenant: string;
  /** The agent's tenant is a shared lane (token minted with `{shared: true}`). */
  shared: boolean;
  capabilities: readonly string[];
}

/** What routing needs to know about a task. */
export interface Routable {
  tenant: string;
  capability: string;
}

/**
 * A task of tenant T may go to an agent of T or of a shared lane that registered the capability —
 * never to another tenant's private agent.
 */
export function canServe(agent: Server, task: Routable): boolean {
  return servesTenant(agent, task.tenant) && agent.capabilities.includes(task.capability);
}

/** The tenant half of the rule: an agent serves its own tenant, a shared lane's serves every tenant. */
export const servesTenant = (agent: Pick<Server, 'tenant' | 'shared'>, tenant: string): boolean =>
  agent.shared || agent.tenant === tenant;

/** A long-poll waiting for work; `since` is when its poll arrived, `woken` that a wake is pending. */
export interface WaiterView extends Server {
  since: number;
  woken: boolean;
}

/**
 * Fairness: among idle (not already woken) waiters that may serve the task, the one waiting longest.
 * Returns its index in `waiters`, or -1.
 */
export function pickWaiter(waiters: readonly WaiterView[], task: Routable): number {
  let best = -1;
  for (let i = 0; i < waiters.length; i++) {
    const w = waiters[i]!;
    if (w.woken || !canServe(w, task)) continue;
    if (best === -1 || w.since < waiters[best]!.since) best = i;
  }
  return best;
}

/** Milliseconds without a heartbeat after which an agent is lost. */
export const lostAfterMs = (heartbeatSeconds: number): number =>
  LOST_AFTER_MISSED_HEARTBEATS * heartbeatSeconds * 1000;

/**
 * An agent is lost when its last heartbeat is older than 3 intervals. A coordinator that just
 * (re)started gives every agent a full grace period, so downtime never costs an agent its leases.
 */
export function isLost(
  lastHeartbeat: number,
  now: number,
  startedAt: number,
  heartbeatSeconds: number,
): boolean {
  return Math.max(lastHeartbeat, startedAt) + lostAfterMs(heartbeatSeconds) <= now;
}

/** Latest heartbeat time that still counts as lost at `now` (for the store's sweep), or null. */
export function lostCutoff(now: number, startedAt: number, heartbeatSeconds: number): number | null {
  const cutoff = now - lostAfterMs(heartbeatSeconds);
  return startedAt <= cutoff ? cutoff : null;
}

/** Where a task goes when its lease ends without a result: back to the queue unless its TTL is over. */
export const requeueState = (expiresAt: number, now: number): TaskState =>
  expiresAt <= now ? 'expired' : 'queued';

/** The stored facts about a task that decide a result or release post. */
export interface LeaseFacts {
  state: TaskState;
  leaseAgent: string | null;
  leaseTenant: string | null;
  leaseExpires: number | null;
  completedBy: string | null;
}

/** Who is posting: the token's tenant (null for the admin) and the agent it names, if any. */
export interface Poster {
  tenant: string | null;
  agentId?: string | undefined;
}

export type Verdict =
  | { kind: 'accept' }
  | { kind: 'repeat' }
  /** A result for a task cancelled while the poster held its lease: acknowledged, not stored. */
  | { kind: 'discard' }
  | { kind: 'forbidden' }
  | { kind: 'conflict'; reason: string };

/** Whether the poster speaks for the agent that holds (or last held) the lease. */
function speaksForHolder(t: LeaseFacts, p: Poster, holder: string | null): boolean {
  if (p.tenant !== null && p.tenant !== t.leaseTenant) return false;
  return p.agentId === undefined || p.agentId === holder;
}

/**
 * A result post: accepted while the poster's lease is live; a repeat of an accepted result is
 * answered as it was (idempotent); a lease that expired, was lost or moved on is a conflict. The
 * holder of a lease cancelled under it is answered 200 with the task `cancelled` and its result
 * discarded: it did nothing wrong, and a 409 would read as a lost lease and be logged as one.
 */
export function judgeResult(t: LeaseFacts, p: Poster, now: number): Verdict {
  if (t.leaseTenant === null || (p.tenant !== null && p.tenant !== t.leaseTenant)) {
    return { kind: 'forbidden' };
  }
  if (t.state === 'succeeded' || t.state === 'failed') {
    return speaksForHolder(t, p, t.completedBy)
      ? { kind: 'repeat' }
      : { kind: 'conflict', reason: 'task already completed' };
  }
  if (t.state === 'cancelled') {
    // A lease expiry survives only on a task cancelled while leased (cancelTask keeps it).
    return t.leaseExpires !== null && speaksForHolder(t, p, t.leaseAgent)
      ? { kind: 'discard' }
      : { kind: 'conflict', reason: 'task cancelled' };
  }
  if (t.state !== 'leased') return { kind: 'conflict', reason: `lease is no longer held (task ${t.state})` };
  if (!speaksForHolder(t, p, t.leaseAgent))
    return { kind: 'conflict', reason: 'lease is held by another agent' };
  if (t.leaseExpires === null || t.leaseExpires <= now) return { kind: 'conflict', reason: 'lease expired' };
  return { kind: 'accept' };
}

/** A release post: only the live holder may hand a task back. */
export function judgeRelease(t: LeaseFacts, p: Poster, now: number): Verdict {
  if (t.leaseTenant === null || (p.tenant !== null && p.tenant !== t.leaseTenant)) {
    return { kind: 'forbidden' };
  }
  if (t.state !== 'leased') return { kind: 'conflict', reason: `task is not leased (task ${t.state})` };
  if (!speaksForHolder(t, p, t.leaseAgent))
    return { kind: 'conflict', reason: 'lease is held by another agent' };
  if (t.leaseExpires === null || t.leaseExpires <= now) return { kind: 'conflict', reason: 'lease expired' };
  return { kind: 'accept' };
}

/** The earliest of several optional deadlines, or null. */
export function earliest(...deadlines: (number | null | undefined)[]): number | null {
  let min: number | null = null;
  for (const d of deadlines) if (d !== null && d !== undefined && (min === null || d < min)) min = d;
  return min;
}
