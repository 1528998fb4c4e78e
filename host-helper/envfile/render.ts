// Renders a tenant's .env (DESIGN §4): the collection's pairs plus the host-owned keys (tenant,
// hive URL and token, and the hive's pins / private-network switch when host.json sets them).
// Pure. Each value is written in the first quoting style that dotenv's parser reads back exactly,
// and the whole file is re-parsed before it is returned; a value no style can carry is an error
// naming the item id, never the value.
import { createHash } from 'node:crypto';
import { parse } from 'dotenv';
import { ClawdieError } from '../../src/errors.ts';

export const ENV_NAME_RE = /^[A-Z_][A-Z0-9_]*$/;
export const HOST_KEYS = [
  'CLAWDIE_TENANT',
  'CLAWDIE_HIVE_URL',
  'CLAWDIE_HIVE_TOKEN',
  'CLAWDIE_HIVE_TLS_PIN',
  'CLAWDIE_HIVE_PRIVATE_NETWORK',
] as const;

export interface EnvPair {
  name: string;
  value: string;
  /** Where the value came from (a vault item id, or "host"): named in errors instead of the value. */
  itemId: string;
}

export interface HostValues {
  tenant: string;
  hiveUrl: string;
  hiveToken: string;
  /** host.json's hive.pin: the agent trusts the same hive key as the host. */
  hivePins?: string | undefined;
  /** host.json's hive.privateNetwork: plain http off loopback, declared by the operator. */
  hivePrivateNetwork?: boolean | undefined;
}

export class RenderError extends ClawdieError {}

/** Candidate spellings of one value, simplest first. */
function candidates(value: string): string[] {
  const out: string[] = [];
  if (/^[A-Za-z0-9_./:@+,=-]*$/.test(value)) out.push(value);
  out.push(`'${value}'`, `"${value}"`, `\`${value}\``);
  return out;
}

export function renderLine(pair: EnvPair): string {
  if (!ENV_NAME_RE.test(pair.name))
    throw new RenderError(`item ${pair.itemId}: variable name is not ^[A-Z_][A-Z0-9_]*$`);
  for (const spelled of candidates(pair.value)) {
    const line = `${pair.name}=${spelled}`;
    const back = parse(line);
    if (Object.keys(back).length === 1 && back[pair.name] === pair.value) return line;
  }
  throw new RenderError(`item ${pair.itemId}: value cannot be represented in a .env file`);
}

/** The file's text: host keys first, then the collection's pairs sorted by name (stable output). */
export function renderEnv(collection: readonly EnvPair[], host: HostValues): string {
  const reserved = new Set<string>(HOST_KEYS);
  const seen = new Set<string>();
  for (const pair of collection) {
    if (reserved.has(pair.name))
      throw new RenderError(`item ${pair.itemId}: ${pair.name} is set by the host`);
    if (seen.has(pair.name)) throw new RenderError(`item ${pair.itemId}: duplicate variable ${pair.name}`);
    seen.add(pair.name);
  }
  const pairs: EnvPair[] = [
    { name: 'CLAWDIE_TENANT', value: host.tenant, itemId: 'host' },
    { name: 'CLAWDIE_HIVE_URL', value: host.hiveUrl, itemId: 'host' },
    { name: 'CLAWDIE_HIVE_TOKEN', value: host.hiveToken, itemId: 'host' },
    ...(host.hivePins ? [{ name: 'CLAWDIE_HIVE_TLS_PIN', value: host.hivePins, itemId: 'host' }] : []),
    ...(host.hivePrivateNetwork
      ? [{ name: 'CLAWDIE_HIVE_PRIVATE_NETWORK', value: 'yes', itemId: 'host' }]
      : []),
    ...[...collection].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  ];
  const text = `${pairs.map(renderLine).join('\n')}\n`;
  // Lines that parse alone can still interact (an unclosed quote swallowing the next line): re-check all.
  const back = parse(text);
  const keys = Object.keys(back);
  if (keys.length !== pairs.length)
    throw new RenderError('rendered .env does not parse back to the same keys');
  for (const pair of pairs) {
    if (back[pair.name] !== pair.value)
      throw new RenderError(`item ${pair.itemId}: value does not round-trip`);
  }
  return text;
}

export const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
