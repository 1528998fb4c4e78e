// What `--db` names: a postgres:// URL selects the PostgreSQL store, anything else is a SQLite path.
// The URL arrives through argv, so it must not carry a password (DESIGN §10: secrets by env or
// file): the pg client reads PGPASSWORD or ~/.pgpass instead. Pure string checks, no I/O.

export const isPostgresUrl = (db: string): boolean => /^postgres(ql)?:\/\//i.test(db);

/** Why a postgres URL is refused (naming the part, never echoing it), or null if usable. */
export function pgUrlProblem(db: string): string | null {
  let url: URL;
  try {
    url = new URL(db);
  } catch {
    return 'is not a valid postgres:// URL';
  }
  if (url.password !== '')
    return 'must not contain a password (argv is visible): set PGPASSWORD or use ~/.pgpass';
  if (/[?&]password=/i.test(url.search)) return 'must not contain a password parameter: set PGPASSWORD';
  return null;
}

/** A label for logs: the store kind, host and database, without user or parameters. */
export function describeDb(db: string): string {
  if (!isPostgresUrl(db)) return db;
  const url = new URL(db);
  return `postgres://${url.host}${url.pathname}`;
}
