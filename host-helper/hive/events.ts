// What the coordinator tells an observer as it happens (issue 19: metrics, the live view's charts):
// tasks submitted, finished (succeeded, failed, expired, cancelled) and put back in the queue, with
// why, and leases renewed by their holders' heartbeats. Synchronous, cheap calls on the hot path; an observer must not throw or block. No I/O here.
import type { Requeued } from './store/store.ts';

export type TaskOutcome = 'succeeded' | 'failed' | 'expired' | 'cancelled';

/** Why a lease ended without a result and the task went back to the queue (or expired). */
export type LeaseEnd = 'lease_expired' | 'agent_lost' | 'released' | 'undelivered' | 'deregistered';

export interface TaskRef {
  tenant: string;
  capability: string;
}

export interface HiveEvents {
  submitted(task: TaskRef): void;
  finished(task: TaskRef, outcome: TaskOutcome): void;
  /** Leases that ended without a result: each task is queued again, or expired past its TTL. */
  leasesEnded(tasks: readonly Requeued[], why: LeaseEnd): void;
  /** Leases renewed by the heartbeat of the agent holding them (a task running past one lease). */
  leasesRenewed(count: number): void;
}

export const NO_EVENTS: HiveEvents = {
  submitted() {},
  finished() {},
  leasesEnded() {},
  leasesRenewed() {},
};
