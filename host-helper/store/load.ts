// Loads the store module (and with it node:sqlite) on demand, without Node's one-time "SQLite is
// an experimental feature" warning: clawdie-host promises one-line errors on stderr, and a command
// that fails before touching the store must not load SQLite at all.
type StoreModule = typeof import('./tenants-store.ts');

let loaded: Promise<StoreModule> | undefined;

export function loadStoreModule(): Promise<StoreModule> {
  loaded ??= (async () => {
    const original = process.emitWarning;
    const filtered = (warning: string | Error, ...rest: unknown[]): void => {
      const text = typeof warning === 'string' ? warning : warning.message;
      if (/SQLite is an experimental feature/.test(text)) return;
      (original as (w: string | Error, ...r: unknown[]) => void).call(process, warning, ...rest);
    };
    process.emitWarning = filtered as typeof process.emitWarning;
    try {
      return await import('./tenants-store.ts');
    } finally {
      process.emitWarning = original;
    }
  })();
  return loaded;
}
