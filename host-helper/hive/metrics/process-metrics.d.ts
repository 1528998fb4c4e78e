// Types for the few process collectors of @prometheus-io/client that metrics.ts loads one by one
// (its collectDefaultMetrics also starts a 100 ms timer and a 10 ms event-loop monitor, which an idle
// hive must not pay for): each registers its metrics, read at scrape time, on the registry given.
declare module '@prometheus-io/client/lib/metrics/*.js' {
  import type { Registry } from '@prometheus-io/client';

  const register: (registry: Registry, config?: Record<string, unknown>) => void;
  export default register;
}
