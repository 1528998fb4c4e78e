// The host's tenants table (DESIGN §6) on node:sqlite: rows validated by zod on the way out,
// versioned migrations, WAL and a busy timeout so concurrent clawdie-host runs queue instead of
// failing. The file holds tenant hive tokens, so it is created 0600 and refused if others can read it.
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { z } from 'zod';
import { formatProblem } from '../../src/protocol/format-issue.ts';
import { TenantName } from '../../src/protocol/names.ts';
import { EXIT, HostError } from '../exit-codes.ts';
import { MIGRATIONS } from './migrations.ts';
import { applyMigrations, immediateTransaction, userVersion } from './sqlite-tx.ts';

export const TenantStatus = z.enum(['pending', 'active', 'revoked', 'failed']);
export type TenantStatus = z.infer<typeof TenantStatus>;

export const TenantRow = z.object({
  tenant_id: TenantName,
  jail: TenantName,
  collection_name: z.string(),
  collection_id: z.string().nullable(),
  shared: z.number().transform((n) => n === 1),
  status: TenantStatus,
  reason: z.string().nullable(),
  env_sha256: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type TenantRow = z.infer<typeof TenantRow>;

const BUSY_TIMEOUT_MS = 15_000;

function parseRow(raw: unknown): TenantRow {
  const parsed = TenantRow.safeParse(raw);
  if (!parsed.success)
    throw new HostError(`store row invalid: ${formatProblem(parsed.error, 'row')}`, EXIT.failure);
  return parsed.data;
}

/** Creates the store file 0600 (and its directory 0700) if missing, and refuses a readable one. */
function prepareFile(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new HostError(`store ${file} is not a regular file`, EXIT.policy);
    if (st.uid !== process.getuid?.())
      throw new HostError(`store ${file} is not owned by this user`, EXIT.policy);
    if ((st.mode & 0o077) !== 0) throw new HostError(`store ${file} must be mode 0600`, EXIT.policy);
  } finally {
    fs.closeSync(fd);
  }
}

export class TenantsStore {
  readonly #db: DatabaseSync;

  constructor(file: string) {
    try {
      prepareFile(file);
      this.#db = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS, enableForeignKeyConstraints: true });
      this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;');
      this.#migrate();
    } catch (err) {
      if (err instanceof HostError) throw err;
      throw new HostError(`store ${file} cannot be opened: ${(err as Error).message}`, EXIT.failure, {
        cause: err,
      });
    }
  }

  #migrate(): void {
    if (userVersion(this.#db) > MIGRATIONS.length)
      throw new HostError('store is newer than this clawdie-host', EXIT.failure);
    applyMigrations(this.#db, MIGRATIONS);
  }

  close(): void {
    this.#db.close();
  }

  get(tenant: string): TenantRow | undefined {
    const raw = this.#db.prepare('SELECT * FROM tenants WHERE tenant_id = ?').get(tenant);
    return raw === undefined ? undefined : parseRow(raw);
  }

  /** The row, or a not-found error (exit 3). */
  require(tenant: string): TenantRow {
    const row = this.get(tenant);
    if (!row) throw new HostError(`tenant ${tenant} is not registered`, EXIT.notFound);
    return row;
  }

  list(): TenantRow[] {
    return this.#db.prepare('SELECT * FROM tenants ORDER BY tenant_id').all().map(parseRow);
  }

  /**
   * Inserts a pending row, or returns the existing one unchanged when it already matches (idempotent).
   * A row that exists with another collection is updated only when `collection` was given explicitly.
   */
  register(input: {
    tenant: string;
    jail: string;
    collectionName: string;
    collectionId: string | null;
    shared: boolean;
    now: string;
  }): { row: TenantRow; created: boolean } {
    return immediateTransaction(this.#db, () => {
      const existing = this.get(input.tenant);
      if (existing) {
        if (
          existing.collection_name !== input.collectionName ||
          existing.collection_id !== input.collectionId ||
          existing.shared !== input.shared
        ) {
          this.#db
            .prepare(
              'UPDATE tenants SET collection_name = ?, collection_id = ?, shared = ?, updated_at = ? WHERE tenant_id = ?',
            )
            .run(input.collectionName, input.collectionId, input.shared ? 1 : 0, input.now, input.tenant);
        }
        return { row: this.require(input.tenant), created: false };
      }
      this.#db
        .prepare(
          `INSERT INTO tenants (tenant_id, jail, collection_name, collection_id, shared, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`,
        )
        .run(
          input.tenant,
          input.jail,
          input.collectionName,
          input.collectionId,
          input.shared ? 1 : 0,
          input.now,
          input.now,
        );
      return { row: this.require(input.tenant), created: true };
    });
  }

  setCollectionId(tenant: string, collectionId: string, now: string): void {
    this.#db
      .prepare('UPDATE tenants SET collection_id = ?, updated_at = ? WHERE tenant_id = ?')
      .run(collectionId, now, tenant);
  }

  setStatus(
    tenant: string,
    status: TenantStatus,
    now: string,
    extra: { reason?: string | null; envSha256?: string | null } = {},
  ): void {
    // `failed` always says why; a `revoked` row may say what its revoke left undone.
    const reason = status === 'failed' ? (extra.reason ?? 'unknown failure') : (extra.reason ?? null);
    if (extra.envSha256 !== undefined) {
      this.#db
        .prepare(
          'UPDATE tenants SET status = ?, reason = ?, env_sha256 = ?, updated_at = ? WHERE tenant_id = ?',
        )
        .run(status, reason, extra.envSha256, now, tenant);
    } else {
      this.#db
        .prepare('UPDATE tenants SET status = ?, reason = ?, updated_at = ? WHERE tenant_id = ?')
        .run(status, reason, now, tenant);
    }
  }

  /** The stored hive token of a tenant, if any. Never printed. */
  hiveToken(tenant: string): string | undefined {
    const raw = this.#db.prepare('SELECT token FROM hive_tokens WHERE tenant_id = ?').get(tenant) as
      | { token: string }
      | undefined;
    return raw?.token;
  }

  saveHiveToken(tenant: string, token: string, now: string): void {
    this.#db
      .prepare(
        `INSERT INTO hive_tokens (tenant_id, token, minted_at) VALUES (?, ?, ?)
         ON CONFLICT(tenant_id) DO UPDATE SET token = excluded.token, minted_at = excluded.minted_at`,
      )
      .run(tenant, token, now);
  }

  dropHiveToken(tenant: string): void {
    this.#db.prepare('DELETE FROM hive_tokens WHERE tenant_id = ?').run(tenant);
  }

  /** For doctor: a write transaction that changes nothing proves the file and its WAL are writable. */
  probeWritable(): void {
    immediateTransaction(this.#db, () => {
      this.#db.exec('CREATE TEMP TABLE IF NOT EXISTS probe (x INTEGER); DROP TABLE probe;');
    });
  }
}
