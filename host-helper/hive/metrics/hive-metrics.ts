// The hive's Prometheus metrics (issue 19) on @prometheus-io/client, the Prometheus organisation's
// Node client (formerly prom-client). Counted as it happens, cheaply (the coordinator's events and
// the HTTP observer): tasks submitted and finished by outcome, ended leases and requeues, request
// and store latency histograms. Read at scrape time (collect callbacks, nothing on the hot path):
// agents by capability, kind and state, queue depth and the oldest queued task's age, parked
// long-polls, and a few process figures. Labels stay bounded: capability, route template, status,
// store operation; never a task or agent id; a tenant label only with `perTenant`.
import { Counter, Gauge, Histogram, Registry } from '@prometheus-io/client';
import heapSizeAndUsed from '@prometheus-io/client/lib/metrics/heapSizeAndUsed.js';
import osMemoryHeap from '@prometheus-io/client/lib/metrics/osMemoryHeap.js';
import processCpuTotal from '@prometheus-io/client/lib/metrics/processCpuTotal.js';
import processMaxFileDescriptors from '@prometheus-io/client/lib/metrics/processMaxFileDescriptors.js';
import processOpenFileDescriptors from '@prometheus-io/client/lib/metrics/processOpenFileDescriptors.js';
import processStartTime from '@prometheus-io/client/lib/metrics/processStartTime.js';
import version from '@prometheus-io/client/lib/metrics/version.js';
import type { Logger } from '../../../src/log.ts';
import type { HiveEvents, LeaseEnd, TaskOutcome, TaskRef } from '../events.ts';
import type { HiveStore, QueueStat, Requeued } from '../store/store.ts';
import { timedStore } from './timed-store.ts';

/** What the gauges read at scrape time. */
export interface MetricsSources {
  store: HiveStore;
  parkedPolls: () => number;
}

export interface MetricsOptions {
  /** Adds a `tenant` label to the task counters and the agents gauge (cardinality grows with tenants). */
  perTenant?: boolean;
  log: Logger;
  now?: () => number;
}

const PREFIX = 'clawdie_hive_';
/** Seconds: from a cached answer to a long-poll held for its whole wait (at most 60 s). */
const REQUEST_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];
const STORE_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];

export class HiveMetrics implements HiveEvents {
  readonly registry = new Registry();
  readonly #perTenant: boolean;
  readonly #log: Logger;
  readonly #now: () => number;
  #sources: MetricsSources | null = null;
  /** One queue read per scrape, shared by the depth and age gauges (collected concurrently). */
  #queueRead: Promise<QueueStat[] | null> | null = null;
  readonly #submitted: Counter<string>;
  readonly #finished: Counter<string>;
  readonly #leaseExpiries: Counter<string>;
  readonly #leaseRenewals: Counter<string>;
  readonly #requeues: Counter<string>;
  readonly #requests: Histogram<string>;
  readonly #storeOps: Histogram<string>;

  constructor(options: MetricsOptions) {
    this.#perTenant = options.perTenant === true;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    const registers = [this.registry];
    const tenant = this.#perTenant ? ['tenant'] : [];
    this.#submitted = new Counter({
      name: `${PREFIX}tasks_submitted_total`,
      help: 'Tasks stored by a submit (idempotent repeats not counted).',
      labelNames: ['capability', ...tenant],
      registers,
    });
    this.#finished = new Counter({
      name: `${PREFIX}tasks_finished_total`,
      help: 'Tasks that reached an end state, by outcome: succeeded, failed, expired, cancelled.',
      labelNames: ['capability', 'outcome', ...tenant],
      registers,
    });
    this.#leaseExpiries = new Counter({
      name: `${PREFIX}lease_expiries_total`,
      help: 'Leases that ran out without a result (the agent held the task too long).',
      labelNames: ['capability'],
      registers,
    });
    this.#leaseRenewals = new Counter({
      name: `${PREFIX}lease_renewals_total`,
      help: "Leases renewed by their holder's heartbeat (tasks running longer than one lease).",
      registers,
    });
    this.#requeues = new Counter({
      name: `${PREFIX}requeues_total`,
      help: 'Tasks put back in the queue after a lease ended without a result, by why it ended.',
      labelNames: ['capability', 'reason'],
      registers,
    });
    this.#requests = new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'Time from a request to its answer, by route template (long-polls include their wait).',
      labelNames: ['route', 'method', 'code'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.#storeOps = new Histogram({
      name: `${PREFIX}store_duration_seconds`,
      help: 'Time a store operation took (SQLite: including the group commit; PostgreSQL: the round trip).',
      labelNames: ['op'],
      buckets: STORE_BUCKETS,
      registers,
    });
    this.#gauges(registers, tenant);
    for (const add of [
      processCpuTotal,
      processStartTime,
      osMemoryHeap,
      processOpenFileDescriptors,
      processMaxFileDescriptors,
      heapSizeAndUsed,
      version,
    ])
      add(this.registry);
  }

  /** The store and coordinator the gauges read (both exist only after the metrics were made). */
  attach(sources: MetricsSources): void {
    this.#sources = sources;
  }

  /** The store, timed into the store latency histogram. */
  timeStore(store: HiveStore): HiveStore {
    return timedStore(store, (op, seconds) => this.#storeOps.observe({ op }, seconds));
  }

  /** For the HTTP shell (server.ts's RequestObserver). */
  readonly observeRequest = (route: string, method: string, status: number, startedMs: number): void => {
    this.#requests.observe({ route, method, code: String(status) }, (performance.now() - startedMs) / 1000);
  };

  async render(): Promise<{ contentType: string; text: string }> {
    this.#queueRead = null;
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  #queue(): Promise<QueueStat[] | null> {
    const store = this.#sources?.store;
    if (!store) return Promise.resolve(null);
    this.#queueRead ??= this.#read('queue', () => store.queueStats());
    return this.#queueRead;
  }

  // ---- HiveEvents ----

  submitted(task: TaskRef): void {
    this.#submitted.inc(
      this.#perTenant
        ? { capability: task.capability, tenant: task.tenant }
        : { capability: task.capability },
    );
  }

  finished(task: TaskRef, outcome: TaskOutcome): void {
    this.#finished.inc(
      this.#perTenant
        ? { capability: task.capability, outcome, tenant: task.tenant }
        : { capability: task.capability, outcome },
    );
  }

  leasesEnded(tasks: readonly Requeued[], why: LeaseEnd): void {
    for (const t of tasks) {
      if (why === 'lease_expired') this.#leaseExpiries.inc({ capability: t.capability });
      if (t.state === 'queued') this.#requeues.inc({ capability: t.capability, reason: why });
      else if (t.state === 'expired') this.finished(t, 'expired');
    }
  }

  leasesRenewed(count: number): void {
    this.#leaseRenewals.inc(count);
  }

  // ---- read at scrape time ----

  #gauges(registers: Registry[], tenant: string[]): void {
    const metrics = this;
    new Gauge({
      name: `${PREFIX}agents`,
      help: 'Registered agents by capability, kind (tenant or shared lane) and state (live, draining, lost).',
      labelNames: ['capability', 'kind', 'state', ...tenant],
      registers,
      async collect() {
        const store = metrics.#sources?.store;
        if (!store) return;
        const agents = await metrics.#read('agents', () => store.listAgents());
        if (!agents) return;
        this.reset();
        for (const a of agents) {
          if (a.state === 'gone') continue;
          const kind = a.shared ? 'lane' : 'tenant';
          for (const capability of a.capabilities) {
            const labels: Record<string, string> = { capability, kind, state: a.state };
            if (metrics.#perTenant) labels.tenant = a.tenant;
            this.inc(labels);
          }
        }
      },
    });
    new Gauge({
      name: `${PREFIX}queue_depth`,
      help: 'Tasks queued (waiting for a capable live agent), by capability.',
      labelNames: ['capability'],
      registers,
      async collect() {
        const stats = await metrics.#queue();
        if (!stats) return;
        this.reset();
        for (const s of stats) this.set({ capability: s.capability }, s.depth);
      },
    });
    new Gauge({
      name: `${PREFIX}queue_oldest_age_seconds`,
      help: 'Age of the oldest queued task, by capability (absent when nothing is queued).',
      labelNames: ['capability'],
      registers,
      async collect() {
        const stats = await metrics.#queue();
        if (!stats) return;
        this.reset();
        const now = metrics.#now();
        for (const s of stats)
          this.set({ capability: s.capability }, Math.max(0, (now - s.oldestCreatedAt) / 1000));
      },
    });
    new Gauge({
      name: `${PREFIX}long_polls_parked`,
      help: 'Agent long-polls waiting for a task on this replica right now.',
      registers,
      collect() {
        this.set(metrics.#sources?.parkedPolls() ?? 0);
      },
    });
  }

  /** A scrape-time read; a failure is logged and the previous values stay. */
  async #read<T>(what: string, fn: () => Promise<T>): Promise<T | null> {
    try {
      return await fn();
    } catch (err) {
      this.#log.warn({ err, what }, 'metrics: could not read the store; previous values kept');
      return null;
    }
  }
}
