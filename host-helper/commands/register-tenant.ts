// `clawdie-host register-tenant T [--collection NAME] [--shared]`: creates the tenant row (pending),
// resolving the collection id by name through bw. Idempotent; re-registering re-enables a revoked
// tenant. A missing collection is not an error (provision is then a no-op until it exists).
import type { Command } from '../command.ts';
import { EXIT, usageError } from '../exit-codes.ts';
import { parseFlags, tenantArg, withContext } from './context.ts';
import { registerTenant } from './tenant-ops.ts';

export const run: Command = async (argv, io) => {
  const parsed = parseFlags(argv, { collection: { type: 'string' }, shared: { type: 'boolean' } });
  const tenant = tenantArg(parsed.positionals[0]);
  const collection = parsed.values.collection as string | undefined;
  if (collection !== undefined && (collection.length === 0 || collection.length > 200)) {
    throw usageError('--collection must be 1-200 characters');
  }
  return withContext(parsed, io, async (ctx) => {
    const { row, created, collectionFound } = await registerTenant(ctx, tenant, {
      collection,
      shared: parsed.values.shared === true ? true : undefined,
      resolve: true,
    });
    const lines = [`${created ? 'registered' : 'already registered'} ${tenant} (status ${row.status})`];
    if (collectionFound === false) {
      lines.push(
        `note: no collection "${row.collection_name}" in the vault yet; provision is a no-op until it exists`,
      );
    }
    ctx.print(
      {
        tenant,
        created,
        status: row.status,
        collection: row.collection_name,
        collectionId: row.collection_id,
        collectionFound,
      },
      lines,
    );
    return EXIT.ok;
  });
};
