// Store latency for the metrics (issue 19): a Proxy over any HiveStore that times each method's
// promise and reports (operation, seconds). A Proxy rather than a list of methods, so a method added
// to the store later is timed too and never missing. In: the store and an observer; out: the same
// store interface. close() and subscribe() pass through untimed.
import type { HiveStore } from '../store/store.ts';

export type StoreObserver = (op: string, seconds: number) => void;

const UNTIMED = new Set<PropertyKey>(['close', 'subscribe', 'constructor']);

export function timedStore(store: HiveStore, observe: StoreObserver): HiveStore {
  const wrappers = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      let w = wrappers.get(prop);
      if (!w) {
        const fn = value as (...args: unknown[]) => unknown;
        const op = String(prop);
        w = UNTIMED.has(prop)
          ? fn.bind(target)
          : (...args: unknown[]) => {
              const t0 = performance.now();
              const out = fn.apply(target, args);
              if (out instanceof Promise) {
                const done = (): void => observe(op, (performance.now() - t0) / 1000);
                out.then(done, done);
              }
              return out;
            };
        wrappers.set(prop, w);
      }
      return w;
    },
  });
}
