// Versioned schema of the host store. Each entry moves PRAGMA user_version from its index to
// index+1; entries are append-only (never edit a shipped one, add the next).
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE tenants (
     tenant_id       TEXT PRIMARY KEY,
     jail            TEXT NOT NULL,
     collection_name TEXT NOT NULL,
     collection_id   TEXT,
     shared          INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),
     status          TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked', 'failed')),
     reason          TEXT,
     env_sha256      TEXT,
     created_at      TEXT NOT NULL,
     updated_at      TEXT NOT NULL
   ) STRICT;
   -- The tenant's current hive token: root-only like the whole file, reused until rotated.
   CREATE TABLE hive_tokens (
     tenant_id  TEXT PRIMARY KEY REFERENCES tenants(tenant_id) ON DELETE CASCADE,
     token      TEXT NOT NULL,
     minted_at  TEXT NOT NULL
   ) STRICT;`,
];
