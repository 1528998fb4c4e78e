// The unlocked part of a session: resolves the organization, its collections and its items through
// the session's `bw serve`, each listed once and cached for the session, so a batch of tenants
// costs one list of each, not one per tenant. Errors name collections and item ids, never values.
import { z } from 'zod';
import { VaultError } from './errors.ts';
import { collectionEntries, type EnvEntry } from './mapping.ts';
import type { ServeHandle } from './serve.ts';

export interface CollectionRef {
  id: string;
  name: string;
  organizationId: string;
}

export interface VaultSession {
  findCollection(name: string): Promise<CollectionRef>;
  collectionEnv(collectionId: string): Promise<EnvEntry[]>;
}

const ListSchema = z.object({ data: z.array(z.unknown()) });
const OrgSchema = z.object({ id: z.string(), name: z.string() });
const CollectionSchema = z.object({ id: z.string(), name: z.string(), organizationId: z.string() });

async function list(serve: ServeHandle, path: string, scrub: (s: string) => string): Promise<unknown[]> {
  const reply = await serve.call('GET', path);
  if (!reply.success) {
    throw new VaultError('bw_failed', `bw list ${path} failed: ${scrub(reply.message ?? 'no message')}`);
  }
  const parsed = ListSchema.safeParse(reply.data);
  if (!parsed.success) throw new VaultError('bw_failed', `bw list ${path} returned an unexpected shape`);
  return parsed.data.data;
}

export function createSession(
  serve: ServeHandle,
  organization: string,
  scrub: (s: string) => string,
): VaultSession & { assertOpen(): void; close(): void } {
  let open = true;
  let orgId: Promise<string> | undefined;
  let collections: Promise<CollectionRef[]> | undefined;
  let items: Promise<unknown[]> | undefined;

  const assertOpen = (): void => {
    if (!open) throw new VaultError('bw_failed', 'vault session used after withSession returned');
  };

  const organizationId = (): Promise<string> => {
    orgId ??= list(serve, '/list/object/organizations', scrub).then((raw) => {
      const matches = raw.map((o) => OrgSchema.parse(o)).filter((o) => o.name === organization);
      if (matches.length === 0) {
        // Not collection_missing: provisioning treats that as "no collection, no-op", and a wrong
        // organization name would silently no-op every tenant.
        throw new VaultError(
          'organization_missing',
          `organization "${organization}" is not visible to this API key: fix vault.organization or add the account to it`,
        );
      }
      if (matches.length > 1) {
        throw new VaultError(
          'organization_missing',
          `${matches.length} organizations are named "${organization}": rename one`,
        );
      }
      return (matches[0] as { id: string }).id;
    });
    return orgId;
  };

  const allCollections = (): Promise<CollectionRef[]> => {
    collections ??= organizationId().then(async (id) =>
      (await list(serve, `/list/object/collections?organizationId=${encodeURIComponent(id)}`, scrub))
        .map((c) => CollectionSchema.parse(c))
        .filter((c) => c.organizationId === id),
    );
    return collections;
  };

  const allItems = (): Promise<unknown[]> => {
    items ??= organizationId().then((id) =>
      list(serve, `/list/object/items?organizationId=${encodeURIComponent(id)}`, scrub),
    );
    return items;
  };

  return {
    assertOpen,
    close: () => {
      open = false;
    },
    async findCollection(name) {
      assertOpen();
      const matches = (await allCollections()).filter((c) => c.name === name);
      if (matches.length === 0) {
        throw new VaultError(
          'collection_missing',
          `no collection "${name}" in organization "${organization}": create it or fix the collection name`,
        );
      }
      if (matches.length > 1) {
        const ids = matches.map((c) => c.id).join(', ');
        throw new VaultError(
          'collection_ambiguous',
          `${matches.length} collections are named "${name}" in "${organization}" (${ids}): rename all but one`,
        );
      }
      return matches[0] as CollectionRef;
    },
    async collectionEnv(collectionId) {
      assertOpen();
      if (!(await allCollections()).some((c) => c.id === collectionId)) {
        throw new VaultError(
          'collection_missing',
          `collection ${collectionId} no longer exists in "${organization}": re-register the tenant`,
        );
      }
      return collectionEntries(await allItems(), collectionId);
    },
  };
}
