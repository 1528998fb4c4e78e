// The live view's recent history (issue 19): tasks submitted, succeeded, failed and expired per
// 10-second bucket over the last 10 minutes, counted from the coordinator's events on this replica.
// A fixed ring of counters: one array increment per event, nothing allocated, nothing to prune.
import type { HiveEvents, LeaseEnd, TaskOutcome, TaskRef } from '../events.ts';
import type { Requeued } from '../store/store.ts';

export const BUCKET_SECONDS = 10;
export const BUCKETS = 60;
const KINDS = ['submitted', 'succeeded', 'failed', 'expired'] as const;
type Kind = (typeof KINDS)[number];

export interface ActivityBucket {
  /** Start of the bucket, epoch ms. */
  t: number;
  submitted: number;
  succeeded: number;
  failed: number;
  expired: number;
}

export class Activity implements HiveEvents {
  readonly #now: () => number;
  /** Bucket number (epoch / bucket size) each slot holds, and its counts by kind. */
  readonly #slot = new Float64Array(BUCKETS).fill(-1);
  readonly #counts = KINDS.map(() => new Uint32Array(BUCKETS));

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #add(kind: Kind): void {
    const n = Math.floor(this.#now() / (BUCKET_SECONDS * 1000));
    const i = n % BUCKETS;
    if (this.#slot[i] !== n) {
      this.#slot[i] = n;
      for (const c of this.#counts) c[i] = 0;
    }
    this.#counts[KINDS.indexOf(kind)]![i]! += 1;
  }

  submitted(_task: TaskRef): void {
    this.#add('submitted');
  }

  finished(_task: TaskRef, outcome: TaskOutcome): void {
    if (outcome !== 'cancelled') this.#add(outcome);
  }

  leasesEnded(tasks: readonly Requeued[], _why: LeaseEnd): void {
    for (const t of tasks) if (t.state === 'expired') this.#add('expired');
  }

  /** Renewals are not charted (the page shows tasks, not leases); metrics count them. */
  leasesRenewed(_count: number): void {}

  /** The last BUCKETS buckets, oldest first, the current (partial) one last. */
  series(): ActivityBucket[] {
    const last = Math.floor(this.#now() / (BUCKET_SECONDS * 1000));
    const out: ActivityBucket[] = [];
    for (let n = last - BUCKETS + 1; n <= last; n++) {
      const i = ((n % BUCKETS) + BUCKETS) % BUCKETS;
      const live = this.#slot[i] === n;
      const at = (k: number): number => (live ? this.#counts[k]![i]! : 0);
      out.push({
        t: n * BUCKET_SECONDS * 1000,
        submitted: at(0),
        succeeded: at(1),
        failed: at(2),
        expired: at(3),
      });
    }
    return out;
  }
}
