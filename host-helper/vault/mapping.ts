// Pure mapping from decrypted bw items to env entries (DESIGN §4): an item's name is the variable
// name; its value is the login password, or the note of a secure note; each custom field adds
// NAME=value. A name that is not a variable name, a duplicate name, a missing value or a value no
// dotenv spelling can carry (envfile/entry.ts) is an item_malformed error naming the item id —
// never the value.
import { z } from 'zod';
import { ENV_NAME_RE } from '../../src/protocol/names.ts';
import { type EnvEntry, isRepresentable, sortedByName } from '../envfile/entry.ts';
import { VaultError } from './errors.ts';

/** The parts of a `bw list items` entry we read; bw sends more, which we ignore. */
export const BwItemSchema = z.object({
  id: z.string().min(1),
  type: z.number().int(),
  name: z.string(),
  notes: z.string().nullish(),
  login: z.object({ password: z.string().nullish() }).nullish(),
  fields: z
    .array(z.object({ name: z.string().nullish(), value: z.string().nullish(), type: z.number().int() }))
    .nullish(),
  collectionIds: z.array(z.string()).nullish(),
  organizationId: z.string().nullish(),
});

export type { EnvEntry };

const ITEM_TYPE = { login: 1, secureNote: 2 } as const;
const FIELD_TYPE_LINKED = 3;

const malformed = (itemId: string, what: string): VaultError =>
  new VaultError('item_malformed', `vault item ${itemId} ${what}: fix it in the vault`);

function checkedEntry(
  itemId: string,
  name: string,
  value: string | null | undefined,
  label: string,
): EnvEntry {
  if (!ENV_NAME_RE.test(name)) throw malformed(itemId, `has ${label} name that is not ${ENV_NAME_RE.source}`);
  if (value === null || value === undefined) throw malformed(itemId, `has no value for ${name}`);
  if (!isRepresentable(value)) {
    throw malformed(
      itemId,
      `has a value for ${name} that an env file cannot hold (multi-line, a control character, malformed text or all three quote kinds)`,
    );
  }
  return { name, value, itemId };
}

/** One item's entries: its own NAME=value, then one per custom field. */
export function itemEntries(raw: unknown): EnvEntry[] {
  const parsed = BwItemSchema.safeParse(raw);
  if (!parsed.success) {
    const id = typeof raw === 'object' && raw !== null && 'id' in raw ? String(raw.id) : '(without id)';
    const field = parsed.error.issues[0]?.path.join('.') ?? '';
    throw malformed(id, `has an unexpected shape at ${field || 'top level'}`);
  }
  const item = parsed.data;
  let value: string | null | undefined;
  if (item.type === ITEM_TYPE.login) value = item.login?.password;
  else if (item.type === ITEM_TYPE.secureNote) value = item.notes;
  else throw malformed(item.id, `is of type ${item.type}; only logins and secure notes map to env`);
  const entries = [checkedEntry(item.id, item.name, value, 'an item')];
  for (const field of item.fields ?? []) {
    if (field.type === FIELD_TYPE_LINKED)
      throw malformed(item.id, 'has a linked custom field; use text or hidden');
    entries.push(checkedEntry(item.id, field.name ?? '', field.value, 'a custom field'));
  }
  return entries;
}

/** The env of one collection: its items' entries, unique by name, sorted by name. */
export function collectionEntries(items: readonly unknown[], collectionId: string): EnvEntry[] {
  const seen = new Map<string, EnvEntry>();
  for (const raw of items) {
    const ids = (raw as { collectionIds?: unknown }).collectionIds;
    if (!Array.isArray(ids) || !ids.includes(collectionId)) continue;
    for (const entry of itemEntries(raw)) {
      const first = seen.get(entry.name);
      if (first) {
        const other = first.itemId === entry.itemId ? 'itself' : `item ${first.itemId}`;
        throw malformed(entry.itemId, `defines ${entry.name} again (already set by ${other})`);
      }
      seen.set(entry.name, entry);
    }
  }
  return sortedByName([...seen.values()]);
}
