// Pure mapping from decrypted bw items to env entries (DESIGN §4): an item's name is the variable
// name; its value is the login password, or the note of a secure note; each custom field adds
// NAME=value. Names must match ^[A-Z_][A-Z0-9_]*$; a duplicate name, a missing value or a value
// that cannot round-trip through dotenv is an item_malformed error naming the item id — never the
// value. `dotenvQuote` is the rendering whose round-trip defines "representable".
import { z } from 'zod';
import { VaultError } from './errors.ts';

export const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

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
export type BwItem = z.infer<typeof BwItemSchema>;

export interface EnvEntry {
  name: string;
  value: string;
  itemId: string;
}

const ITEM_TYPE = { login: 1, secureNote: 2 } as const;
const FIELD_TYPE_LINKED = 3;

/**
 * The dotenv rendering of a value, or null when none round-trips through dotenv's parser.
 * Single-line values only: dotenv turns CR/CRLF into LF, and a multi-line secret in an env file
 * is fragile for every other reader (shell, systemd). NUL and other C0/DEL controls except TAB are
 * refused too. Quoting: '…' when the value has no single quote (no escapes are processed there),
 * else "…" when it has no double quote and no backslash (dotenv expands \n and \r there),
 * else `…` when it has no backtick.
 */
export function dotenvQuote(value: string): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) return null;
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"') && !value.includes('\\')) return `"${value}"`;
  if (!value.includes('`')) return `\`${value}\``;
  return null;
}

export function isRepresentable(value: string): boolean {
  return dotenvQuote(value) !== null;
}

const malformed = (itemId: string, what: string): VaultError =>
  new VaultError('item_malformed', `vault item ${itemId} ${what}: fix it in the vault`);

function checkedEntry(
  itemId: string,
  name: string,
  value: string | null | undefined,
  label: string,
): EnvEntry {
  if (!ENV_NAME.test(name)) throw malformed(itemId, `has ${label} name that is not ^[A-Z_][A-Z0-9_]*$`);
  if (value === null || value === undefined) throw malformed(itemId, `has no value for ${name}`);
  if (!isRepresentable(value)) {
    throw malformed(
      itemId,
      `has a value for ${name} that an env file cannot hold (multi-line, control character or all three quote kinds)`,
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
  return [...seen.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
