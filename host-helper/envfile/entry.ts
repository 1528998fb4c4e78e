// One NAME=value entry of a tenant's .env (DESIGN §4) and its dotenv spelling, shared by the vault
// mapping (which refuses an item whose value no spelling can carry) and the renderer (which writes
// the spelling). Pure. The spelling is proven by dotenv's own parser: render.ts re-parses the whole
// file, and the property tests run every accepted value through it.

export interface EnvEntry {
  name: string;
  value: string;
  /** Where the value came from (a vault item id, or "host"): named in errors instead of the value. */
  itemId: string;
}

/** Values written as they are: nothing dotenv would trim, cut at `#` or unquote. */
const PLAIN_RE = /^[A-Za-z0-9_./:@+,=-]*$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL_RE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * The dotenv spelling of a value, or null when none round-trips through dotenv's parser.
 * Single-line values only: dotenv turns CR/CRLF into LF, and a multi-line secret in an env file is
 * fragile for every other reader (shell, systemd). NUL and the other C0/DEL controls except TAB
 * are refused, and so is text that is not well-formed UTF-16 (a lone surrogate would be written as
 * U+FFFD, another value). Plain when nothing needs quoting, else '…' when the value has no single
 * quote (no escapes are processed there), else "…" when it has no double quote and no backslash
 * (dotenv expands \n and \r there), else `…` when it has no backtick.
 */
export function dotenvQuote(value: string): string | null {
  if (CONTROL_RE.test(value) || !value.isWellFormed()) return null;
  if (PLAIN_RE.test(value)) return value;
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"') && !value.includes('\\')) return `"${value}"`;
  if (!value.includes('`')) return `\`${value}\``;
  return null;
}

export const isRepresentable = (value: string): boolean => dotenvQuote(value) !== null;

/** Entries in name order (code units: names are ASCII, and localeCompare would load ICU). */
export const sortedByName = <T extends { name: string }>(entries: readonly T[]): T[] =>
  [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
