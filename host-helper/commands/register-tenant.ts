// `clawdie-host register-tenant T... [--collection NAME] [--shared]`: creates each tenant row
// (pending), resolving collection ids by name through bw in one session for all of them.
// Idempotent; re-registering re-enables a revoked tenant. A missing collection is not an error
// (provision is then a no-op until it exists). --collection needs exactly one tenant.
import type { Command } from '../command.ts';
import { EXIT, usageError } from '../exit-codes.ts';
import { parseFlags, tenantArg, withContext } from './context.ts';
import { collectionFor, registerTenant, resolveCollections } from './tenant-ops.ts';

export const run: Command = async (argv, io) => {
  const parsed = parseFlags(argv, { collection: { type: 'string' }, shared: { type: 'boolean' } }, 100);
  if (parsed.positionals.length === 0) throw usageError('missing tenant name');
  const tenants = [...new Set(parsed.positionals.map(tenantArg))];
  const collection = parsed.values.collection as string | undefined;
  if (collection !== undefined && (collection.length === 0 || collection.length > 200)) {
    throw usageError('--collection must be 1-200 characters');
  }
  if (collection !== undefined && tenants.length > 1)
    throw usageError('--collection takes exactly one tenant');
  return withContext(parsed, io, async (ctx) => {
    // What to look up in the vault, read unlocked: registerTenant decides on the row as it is then.
    const ids = await resolveCollections(
      ctx,
      tenants.map((t) => collectionFor(ctx, t, collection)),
    );
    const results = [];
    const lines: string[] = [];
    for (const tenant of tenants) {
      const { row, created, collectionFound } = await registerTenant(ctx, tenant, {
        collection,
        shared: parsed.values.shared === true ? true : undefined,
        resolved: ids,
        reenable: true,
      });
      lines.push(`${created ? 'registered' : 'already registered'} ${tenant} (status ${row.status})`);
      if (collectionFound === false) {
        lines.push(
          `note: no collection "${row.collection_name}" in the vault yet; provision is a no-op until it exists`,
        );
      }
      results.push({
        tenant,
        created,
        status: row.status,
        collection: row.collection_name,
        collectionId: row.collection_id,
        collectionFound,
      });
    }
    ctx.print(results.length === 1 ? results[0] : { tenants: results }, lines);
    return EXIT.ok;
  });
};
