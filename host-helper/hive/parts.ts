// What the coordinator's pieces share (coordinator.ts: agents, polls, deadlines; tasks.ts: submit,
// results, releases): the store, the timings, the parked long-polls and the deadline timer, plus who
// a request speaks for. Types and one helper; no I/O of its own.
import type { Logger } from '../../src/log.ts';
import type { DeadlineTimer } from './deadline-timer.ts';
import type { HiveEvents } from './events.ts';
import type { HiveStore, Requeued } from './store/store.ts';
import type { TaskWatch } from './task-watch.ts';
import type { WaiterRegistry } from './waiters.ts';

export interface HiveTimings {
  heartbeatSeconds: number;
  pollSeconds: number;
  leaseSeconds: number;
}

/** Who a request speaks for: the host (admin token) or one tenant (its token). */
export type Principal = { kind: 'admin' } | { kind: 'tenant'; tenant: string; shared: boolean };

export interface HiveParts {
  store: HiveStore;
  timings: HiveTimings;
  waiters: WaiterRegistry;
  deadlines: DeadlineTimer;
  log: Logger;
  /** Whoever waits here on a task's state is woken by the changes this process makes. */
  watch: TaskWatch;
  /** Told of submits, outcomes and ended leases (metrics, the live view). */
  events: HiveEvents;
  /** The coordinator stopped: no poll is handed work any more. */
  stopped(): boolean;
}

/** Tasks back in the queue wake a parked poll that may serve them (expired ones wake nobody). */
export function wakeRequeued(waiters: WaiterRegistry, tasks: readonly Requeued[]): void {
  for (const t of tasks) if (t.state === 'queued') waiters.wake(t);
}
