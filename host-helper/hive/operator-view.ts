// What the operator sees of the hive (issue 19), wired for `hive serve`: the Prometheus metrics
// (`/metrics`, and `--metrics-listen` without a token) and the live view (`/ui`). In: the metrics
// mode (`on`, `per-tenant` adds tenant labels, `off` keeps the hot paths free of any bookkeeping but
// the live view's ring) and the logger; out: the events the coordinator reports to, the store
// wrapper that times store calls, and the doors and request observer for the HTTP shell.
import type { Server } from 'node:http';
import type { Logger } from '../../src/log.ts';
import type { Coordinator } from './coordinator.ts';
import type { HiveEvents } from './events.ts';
import type { HiveServerExtras } from './http/server.ts';
import { metricsDoor, metricsListener } from './metrics/door.ts';
import { HiveMetrics } from './metrics/hive-metrics.ts';
import type { HiveStore } from './store/store.ts';
import { Activity } from './ui/activity.ts';
import { uiDoor } from './ui/door.ts';
import { UiSessions } from './ui/sessions.ts';

export type MetricsMode = 'on' | 'per-tenant' | 'off';

export interface OperatorView {
  events: HiveEvents;
  wrapStore(store: HiveStore): HiveStore;
  /** Doors and the request observer for createHiveServer, once the coordinator exists. */
  serverExtras(hive: Coordinator, store: HiveStore): Pick<HiveServerExtras, 'doors' | 'observe'>;
  /** The token-less metrics listener of --metrics-listen (not listening yet), or null when off. */
  metricsListener(): Server | null;
}

export function operatorView(mode: MetricsMode, log: Logger): OperatorView {
  const activity = new Activity();
  const metrics = mode === 'off' ? null : new HiveMetrics({ perTenant: mode === 'per-tenant', log });
  const events: HiveEvents = metrics
    ? {
        submitted: (t) => {
          metrics.submitted(t);
          activity.submitted(t);
        },
        finished: (t, o) => {
          metrics.finished(t, o);
          activity.finished(t, o);
        },
        leasesEnded: (ts, why) => {
          metrics.leasesEnded(ts, why);
          activity.leasesEnded(ts, why);
        },
        leasesRenewed: (n) => metrics.leasesRenewed(n),
      }
    : activity;
  return {
    events,
    wrapStore: (store) => (metrics ? metrics.timeStore(store) : store),
    serverExtras(hive, store) {
      metrics?.attach({ store, parkedPolls: () => hive.parkedPolls });
      const ui = uiDoor({ hive, store, activity, sessions: new UiSessions() });
      return metrics
        ? { doors: [metricsDoor(metrics, hive), ui], observe: metrics.observeRequest }
        : { doors: [ui] };
    },
    metricsListener: () => (metrics ? metricsListener(metrics, log) : null),
  };
}
