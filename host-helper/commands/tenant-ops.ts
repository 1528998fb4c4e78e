// The steps behind register-tenant, provision and revoke, shared with spawn-agent. Provision is
// fail-closed and ordered so a failure changes as little as possible: vault first (nothing minted
// yet), then the hive token (reused unless rotating), then render (pure), then the jail write
// (atomic) and verification; `active` only after the .env is proven in place. Any failure marks
// the row `failed` with a one-line reason and leaves the previous .env as it was.
import { describeError } from '../../src/errors.ts';
import { deliverEnv, removeEnv } from '../envfile/deliver.ts';
import { renderEnv, sha256 } from '../envfile/render.ts';
import { EXIT, type ExitCode, HostError } from '../exit-codes.ts';
import type { TenantRow } from '../store/tenants-store.ts';
import { VaultError } from '../vault/index.ts';
import type { EnvEntry } from '../vault/mapping.ts';
import { type HostContext, nowIso } from './context.ts';

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

/** The collection a registration would use: the flag, else the row's, else the tenant name. */
export const collectionFor = (ctx: HostContext, tenant: string, flag?: string): string =>
  flag ?? ctx.store.get(tenant)?.collection_name ?? tenant;

/**
 * Inserts or updates the row (idempotent). `resolved` is the collection id from resolveCollections
 * (null: not in the vault), or undefined when the caller leaves resolution to provision.
 */
export async function registerTenant(
  ctx: HostContext,
  tenant: string,
  options: { collection?: string; shared?: boolean; resolved?: string | null },
): Promise<RegisterResult> {
  const existing = ctx.store.get(tenant);
  const collectionName = collectionFor(ctx, tenant, options.collection);
  const collectionId = options.resolved !== undefined ? options.resolved : (existing?.collection_id ?? null);
  const collectionFound: RegisterResult['collectionFound'] =
    options.resolved === undefined ? 'not-checked' : options.resolved !== null;
  return ctx.withTenantLock(tenant, async () => {
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
    return { row: ctx.store.require(tenant), created, collectionFound };
  });
}

export type ProvisionResult = 'written' | 'unchanged' | 'no-collection' | 'failed';

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

async function provisionOne(
  ctx: HostContext,
  row: TenantRow,
  fetched: Fetched,
  rotate: boolean,
): Promise<ProvisionOutcome> {
  const tenant = row.tenant_id;
  if (fetched.kind === 'missing') {
    return { tenant, result: 'no-collection', status: row.status, exitCode: EXIT.ok };
  }
  return ctx.withTenantLock(tenant, async () => {
    if (fetched.kind === 'error') return failure(ctx, tenant, fetched.error);
    try {
      if (row.collection_id !== fetched.collectionId)
        ctx.store.setCollectionId(tenant, fetched.collectionId, nowIso());
      let token = rotate ? undefined : ctx.store.hiveToken(tenant);
      if (token === undefined) {
        token = await ctx.hive.mintToken(tenant, row.shared);
        // Stored before the write: the previous token is already dead at the hive, so a later
        // failure must not lose the new one (the next provision reuses it).
        ctx.store.saveHiveToken(tenant, token, nowIso());
      }
      const content = renderEnv(fetched.entries, {
        tenant,
        hiveUrl: ctx.config.hive.url,
        hiveToken: token,
        hivePins: ctx.config.hive.pin,
        hivePrivateNetwork: ctx.config.hive.privateNetwork,
      });
      // `active` names the verified file (its digest): before replacing it, step out of `active`,
      // so a crash between the rename and the update below never leaves `active` over a file
      // nobody verified.
      const current = ctx.store.require(tenant);
      if (current.status === 'active' && current.env_sha256 !== sha256(content))
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
  const rows = tenants.map((t) => ctx.store.require(t));
  const revoked = rows.find((r) => r.status === 'revoked');
  if (revoked) {
    throw new HostError(
      `tenant ${revoked.tenant_id} is revoked; run register-tenant to re-enable it`,
      EXIT.policy,
    );
  }
  const fetched = await fetchAll(ctx, rows);
  return Promise.all(
    rows.map((row) => provisionOne(ctx, row, fetched.get(row.tenant_id) as Fetched, rotate)),
  );
}

export interface RevokeOutcome {
  tenant: string;
  envRemoved: boolean;
  tokenRevoked: boolean;
  errors: string[];
}

/** Removes the .env and revokes the token; either failing leaves a non-zero exit for the caller. */
export async function revokeTenant(ctx: HostContext, tenant: string): Promise<RevokeOutcome> {
  const row = ctx.store.require(tenant);
  return ctx.withTenantLock(tenant, async () => {
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
    const now = nowIso();
    if (tokenRevoked) ctx.store.setStatus(tenant, 'revoked', now, { envSha256: null });
    else
      ctx.store.setStatus(tenant, 'failed', now, {
        reason: `revoke incomplete: ${errors.join('; ')}`.slice(0, 300),
      });
    return { tenant, envRemoved, tokenRevoked, errors };
  });
}
