// The agent's side of one running task's lease (DESIGN §5, lease renewal): until when the hive holds
// the task for this agent (pushed on by each heartbeat answer that names it `renewed`), the task's
// own deadline (its skill's time budget plus a grace, not the lease), and the one AbortController
// that stops the skill when the task ends early — cancelled by its submitter, lost (the hive says
// so, or the lease ran out with no renewal heard: the hive requeues it, so going on would run it
// twice), or past its deadline. Shared on purpose by the heartbeat's actions and the task actor,
// like the AbortController it wraps; the decisions are the small pure methods below.

/** Why a task stopped before its runner returned by itself. */
export type TaskEnd = 'cancelled' | 'lost' | 'timed-out';

/** After its skill's own timeout (which the skill enforces and reports), the agent waits this long before aborting it. */
export const TASK_DEADLINE_GRACE_MS = 10_000;
/** A task whose runner names no budget: the largest `timeout-seconds` a skill may declare (frontmatter.ts). */
export const DEFAULT_TASK_BUDGET_MS = 3_600_000;

export class TaskLease {
  /** The hive's lease length, from the assignment. */
  readonly leaseMs: number;
  /** Epoch ms after which the task is aborted and no longer named in heartbeats. */
  readonly deadline: number;
  #until: number;
  readonly #stop = new AbortController();

  /** A lease just handed out at `now` for `leaseSeconds`, for a task that may take `budgetMs`. */
  constructor(now: number, leaseSeconds: number, budgetMs: number) {
    this.leaseMs = leaseSeconds * 1000;
    this.#until = now + this.leaseMs;
    this.deadline = now + budgetMs + TASK_DEADLINE_GRACE_MS;
  }

  /** Epoch ms when the hive's lease ends, as far as this agent heard (a renewal can only push it on). */
  get until(): number {
    return this.#until;
  }

  /** Aborted when the task ends early; the runner's signal. */
  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  get ended(): TaskEnd | undefined {
    return this.#stop.signal.aborted ? (this.#stop.signal.reason as TaskEnd) : undefined;
  }

  /** Whether a heartbeat at `now` names the task as running (asks the hive to renew its lease). */
  held(now: number): boolean {
    return this.ended === undefined && now < this.deadline;
  }

  /** A heartbeat sent at `sentAt` renewed the lease: it runs a lease length from then (at least). */
  renewed(sentAt: number): void {
    this.#until = Math.max(this.#until, sentAt + this.leaseMs);
  }

  /** Ends the task for `why` (aborting its runner); false if it had already ended. */
  end(why: TaskEnd): boolean {
    if (this.ended !== undefined) return false;
    this.#stop.abort(why);
    return true;
  }

  /** What is due at `now`: the end it calls for, or the instant to look again. */
  due(now: number): TaskEnd | number {
    if (now >= this.deadline) return 'timed-out';
    if (now >= this.#until) return 'lost';
    return Math.min(this.deadline, this.#until);
  }
}

/**
 * How long to wait between heartbeats: the hive's interval, but while a task runs at most a third of
 * its lease, so that one heartbeat may be lost and the next still renews it in time (a hive whose
 * lease is shorter than its heartbeat interval is served all the same; 100 ms at the least).
 */
export function heartbeatDelay(heartbeatMs: number, running: TaskLease | undefined): number {
  return running ? Math.min(heartbeatMs, Math.max(100, Math.floor(running.leaseMs / 3))) : heartbeatMs;
}
