// The two SQLite write idioms both host databases share (the tenants store and the hive's SQLite
// store): a transaction that takes the write lock up front, and schema migrations counted by
// PRAGMA user_version. In: an open DatabaseSync; out: the function's result / the schema brought up.
import type { DatabaseSync } from 'node:sqlite';

/** BEGIN IMMEDIATE takes the write lock up front so the busy timeout applies, not SQLITE_BUSY mid-way. */
export function immediateTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

export function userVersion(db: DatabaseSync): number {
  return Number((db.prepare('PRAGMA user_version').get() as { user_version: number | bigint }).user_version);
}

/**
 * Applies `migrations[v]` for every version v from the file's user_version up, each in its own
 * transaction that also bumps user_version. The version is read again inside the write lock: a
 * concurrent process may have migrated already.
 */
export function applyMigrations(db: DatabaseSync, migrations: readonly string[]): void {
  for (let v = userVersion(db); v < migrations.length; v += 1) {
    immediateTransaction(db, () => {
      if (userVersion(db) > v) return;
      db.exec(migrations[v] as string);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    });
  }
}
