// Loads the store module (and with it node:sqlite) on demand, without Node's one-time "SQLite is
// an experimental feature" warning: clawdie-host promises one-line errors on stderr, and a command
// that fails before touching the store must not load SQLite at all. The process locks load
// node:sqlite the same way (loadSqlite).
type StoreModule = typeof import('./tenants-store.ts');
type SqliteModule = typeof import('node:sqlite');

/** Runs an import with SQLite's experimental warning filtered out (every other warning passes). */
async function quietly<T>(load: () => Promise<T>): Promise<T> {
  const original = process.emitWarning;
  const filtered = (warning: string | Error, ...rest: unknown[]): void => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/SQLite is an experimental feature/.test(text)) return;
    (original as (w: string | Error, ...r: unknown[]) => void).call(process, warning, ...rest);
  };
  process.emitWarning = filtered as typeof process.emitWarning;
  try {
    return await load();
  } finally {
    process.emitWarning = original;
  }
}

let loaded: Promise<StoreModule> | undefined;
let sqlite: Promise<SqliteModule> | undefined;

export function loadStoreModule(): Promise<StoreModule> {
  loaded ??= quietly(() => import('./tenants-store.ts'));
  return loaded;
}

export function loadSqlite(): Promise<SqliteModule> {
  sqlite ??= quietly(() => import('node:sqlite'));
  return sqlite;
}
