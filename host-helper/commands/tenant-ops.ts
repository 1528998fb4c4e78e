// The steps behind register-tenant, provision and revoke, shared with spawn-agent. Every decision
// that depends on a tenant's row is made under that tenant's lock on a fresh read (DESIGN §6):
// reads outside it only choose what to look up in the vault, which is slow and runs unlocked.
// Provision is fail-closed and ordered so a failure changes as little as possible: vault first
// (nothing minted yet), then, under the lock, the row again (a tenant revoked meanwhile is refused
// with nothing minted or written), the agent's .env contract on the rendered file (a refusal mints
// nothing), the hive token (reused unless rotating), render (pure), the jail write (atomic) and
// verification; `active` only after the .env is proven in place. Any failure marks the row
// `failed` with a one-line reason and leaves the previous .env as it was.
import { describeError } from '../../src/errors.ts';
import { deliverEnv, removeEnv } from '../envfile/deliver.ts';
import type { EnvEntry } from '../envfile/entry.ts';
import { renderEnv, sha256 } from '../envfile/render.ts';
import { EXIT, type ExitCode, HostError } from '../exit-codes.ts';
import { mintToken as tokenShaped } from '../hive/tokens.ts';
import type { TenantRow } from '../store/tenants-store.ts';
import { VaultError } from '../vault/index.ts';
import { type HostContext, nowIso } from './context.ts';

/** A revoked tenant stays revoked until register-tenant re-enables it (exit 4). */
export const revokedError = (tenant: string): HostError =>
  new HostError(`tenant ${tenant} is revoked; run register-tenant to re-enable it`, EXIT.policy);

export interface RegisterResult {
  row: TenantRow;
  created: boolean;
  /** false when the vault has no such collection (provision will then be a no-op). */
  collectionFound: boolean | 'not-checked';
}

/** Collection ids by name in ONE bw session (null when the vault has no such collection). */
export async function resolveCollections(
  ctx: HostContext,
  names: readonly string[],
): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  await ctx.vault().withSession(async (s) => {
    for (const name of new Set(names)) {
      try {
        out.set(name, (await s.findCollection(name)).id);
      } catch (err) {
        if (!(err instanceof VaultError && err.code === 'collection_missing')) throw err;
        out.set(name, null);
      }
    }
  });
  return out;
}

/** The collection a registration would look up: the flag, else the row's, else the tenant name. */
export const collectionFor = (ctx: HostContext, tenant: string, flag?: string): string =>
  flag ?? ctx.store.get(tenant)?.collection_name ?? tenant;

export interface RegisterOptions {
  /** The collection given explicitly (else the row's, else the tenant name). */
  collection?: string;
  shared?: boolean;
  /** Collection ids by name from resolveCollections (null: not in the vault); absent: not looked up. */
  resolved?: ReadonlyMap<string, string | null>;
  /** register-tenant re-enables a revoked tenant; anything else (spawn-agent) is refused, exit 4. */
  reenable?: boolean;
}

/**
 * Inserts or updates the row (idempotent), deciding everything on the row as it is under the lock:
 * a resolution made for another collection name (the row changed meanwhile) is not used.
 */
export async function registerTenant(
  ctx: HostContext,
  tenant: string,
  options: RegisterOptions,
): Promise<RegisterResult> {
  return ctx.withTenantLock(tenant, async () => {
    const existing = ctx.store.get(tenant);
    if (existing?.status === 'revoked' && options.reenable !== true) throw revokedError(tenant);
    const collectionName = options.collection ?? existing?.collection_name ?? tenant;
    const looked = options.resolved?.has(collectionName) === true;
    const kept = existing?.collection_name === collectionName ? existing.collection_id : null;
    const collectionId = looked ? (options.resolved?.get(collectionName) ?? null) : kept;
    const now = nowIso();
    const { row, created } = ctx.store.register({
      tenant,
      jail: tenant,
      collectionName,
      collectionId,
      shared: options.shared ?? existing?.shared ?? false,
      now,
    });
    // Registering again is how a revoked tenant is re-enabled; nothing else brings it back.
    if (row.status === 'revoked') ctx.store.setStatus(tenant, 'pending', now);
    return {
      row: ctx.store.require(tenant),
      created,
      collectionFound: looked ? collectionId !== null : 'not-checked',
    };
  });
}

export type ProvisionResult = 'written' | 'unchanged' | 'no-collection' | 'refused' | 'failed';

export interface ProvisionOutcome {
  tenant: string;
  result: ProvisionResult;
  status: string;
  via?: string;
  sha256?: string;
  error?: string;
  exitCode: ExitCode;
}

type Fetched =
  | { kind: 'env'; collectionId: string; entries: EnvEntry[] }
  | { kind: 'missing' }
  | { kind: 'error'; error: unknown };

/** One vault session for the whole batch: bw is slow and serialized, so tenants share it. */
async function fetchAll(ctx: HostContext, rows: TenantRow[]): Promise<Map<string, Fetched>> {
  const out = new Map<string, Fetched>();
  try {
    await ctx.vault().withSession(async (s) => {
      for (const row of rows) {
        try {
          const ref = await s.findCollection(row.collection_name);
          out.set(row.tenant_id, {
            kind: 'env',
            collectionId: ref.id,
            entries: await s.collectionEnv(ref.id),
          });
        } catch (err) {
          if (err instanceof VaultError && err.code === 'collection_missing')
            out.set(row.tenant_id, { kind: 'missing' });
          else if (
            err instanceof VaultError &&
            (err.code === 'item_malformed' || err.code === 'collection_ambiguous')
          ) {
            out.set(row.tenant_id, { kind: 'error', error: err });
          } else throw err;
        }
      }
    });
  } catch (err) {
    for (const row of rows)
      if (!out.has(row.tenant_id) || out.get(row.tenant_id)?.kind === 'env')
        out.set(row.tenant_id, { kind: 'error', error: err });
  }
  return out;
}

function failure(ctx: HostContext, tenant: string, err: unknown): ProvisionOutcome {
  const reason = describeError(err).slice(0, 300);
  ctx.store.setStatus(tenant, 'failed', nowIso(), { reason });
  return {
    tenant,
    result: 'failed',
    status: 'failed',
    error: reason,
    exitCode: err instanceof HostError ? err.exitCode : EXIT.failure,
  };
}

/** Nothing done: the row stays as it is (a revoked tenant stays revoked, not `failed`). */
const refused = (row: TenantRow, err: HostError): ProvisionOutcome => ({
  tenant: row.tenant_id,
  result: 'refused',
  status: row.status,
  error: err.message,
  exitCode: err.exitCode,
});

/** Under the tenant's lock: the row is read again here, and only this read decides. */
async function provisionOne(
  ctx: HostContext,
  tenant: string,
  fetchedFor: string,
  fetched: Fetched,
  rotate: boolean,
): Promise<ProvisionOutcome> {
  return ctx.withTenantLock(tenant, async () => {
    const row = ctx.store.require(tenant);
    if (row.status === 'revoked') return refused(row, revokedError(tenant));
    if (row.collection_name !== fetchedFor) {
      const changed = `tenant ${tenant}'s collection changed to ${row.collection_name} meanwhile; run provision again`;
      return refused(row, new HostError(changed, EXIT.failure));
    }
    if (fetched.kind === 'missing')
      return { tenant, result: 'no-collection', status: row.status, exitCode: EXIT.ok };
    if (fetched.kind === 'error') return failure(ctx, tenant, fetched.error);
    try {
      if (row.collection_id !== fetched.collectionId)
        ctx.store.setCollectionId(tenant, fetched.collectionId, nowIso());
      const render = (hiveToken: string): string =>
        renderEnv(fetched.entries, {
          tenant,
          hiveUrl: ctx.config.hive.url,
          hiveToken,
          hivePins: ctx.config.hive.pin,
          hivePrivateNetwork: ctx.config.hive.privateNetwork,
        });
      let token = rotate ? undefined : ctx.store.hiveToken(tenant);
      // The agent's contract first: a collection it would refuse fails before a token is minted
      // (rotating kills the previous one). A random value of a token's shape stands in for one.
      render(token ?? tokenShaped());
      if (token === undefined) {
        token = await ctx.hive.mintToken(tenant, row.shared);
        // Stored before the write: the previous token is already dead at the hive, so a later
        // failure must not lose the new one (the next provision reuses it).
        ctx.store.saveHiveToken(tenant, token, nowIso());
      }
      const content = render(token);
      // `active` names the verified file (its digest): before replacing it, step out of `active`,
      // so a crash between the rename and the update below never leaves `active` over a file
      // nobody verified.
      if (row.status === 'active' && row.env_sha256 !== sha256(content))
        ctx.store.setStatus(tenant, 'pending', nowIso());
      const delivered = await deliverEnv(ctx.backend, row.jail, ctx.config.jails.user, content);
      ctx.store.setStatus(tenant, 'active', nowIso(), { envSha256: delivered.sha256 });
      return {
        tenant,
        result: delivered.changed ? 'written' : 'unchanged',
        status: 'active',
        via: delivered.via,
        sha256: delivered.sha256,
        exitCode: EXIT.ok,
      };
    } catch (err) {
      return failure(ctx, tenant, err);
    }
  });
}

export async function provisionTenants(
  ctx: HostContext,
  tenants: string[],
  rotate: boolean,
): Promise<ProvisionOutcome[]> {
  // Read unlocked only to know which collections to fetch, and to refuse a revoked tenant before
  // a bw session is spent on it (a refusal acts on nothing; provisionOne decides the rest).
  const rows = tenants.map((t) => ctx.store.require(t));
  const revoked = rows.find((r) => r.status === 'revoked');
  if (revoked) throw revokedError(revoked.tenant_id);
  const fetched = await fetchAll(ctx, rows);
  return Promise.all(
    rows.map((r) =>
      provisionOne(ctx, r.tenant_id, r.collection_name, fetched.get(r.tenant_id) as Fetched, rotate),
    ),
  );
}

export interface RevokeOutcome {
  tenant: string;
  envRemoved: boolean;
  tokenRevoked: boolean;
  errors: string[];
}

/**
 * Marks the row `revoked` whatever else happens (the operator's decision stands: provision and
 * spawn-agent refuse it from now on), revokes the token and removes the .env; what failed is the
 * row's reason and a non-zero exit for the caller, and running revoke again finishes it.
 * `recordIfMissing` revokes a tenant this host has no row for yet (a spawned descendant whose
 * spawn-agent may still be on its way) by recording one, so that spawn-agent is refused.
 */
export async function revokeTenant(
  ctx: HostContext,
  tenant: string,
  options: { recordIfMissing?: boolean } = {},
): Promise<RevokeOutcome> {
  return ctx.withTenantLock(tenant, async () => {
    const now = nowIso();
    if (options.recordIfMissing === true && !ctx.store.get(tenant)) {
      ctx.store.register({
        tenant,
        jail: tenant,
        collectionName: tenant,
        collectionId: null,
        shared: false,
        now,
      });
    }
    const row = ctx.store.require(tenant);
    ctx.store.setStatus(tenant, 'revoked', now, { reason: 'revoke in progress', envSha256: null });
    const errors: string[] = [];
    let tokenRevoked = false;
    let envRemoved = false;
    try {
      await ctx.hive.revokeToken(tenant);
      ctx.store.dropHiveToken(tenant);
      tokenRevoked = true;
    } catch (err) {
      errors.push(`hive token: ${describeError(err)}`);
    }
    try {
      await removeEnv(ctx.backend, row.jail, ctx.config.jails.user);
      envRemoved = true;
    } catch (err) {
      errors.push(`.env: ${describeError(err)}`);
    }
    const reason = errors.length === 0 ? null : `revoke incomplete: ${errors.join('; ')}`.slice(0, 300);
    ctx.store.setStatus(tenant, 'revoked', nowIso(), { reason });
    return { tenant, envRemoved, tokenRevoked, errors };
  });
}
