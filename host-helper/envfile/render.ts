// Renders a tenant's .env (DESIGN §4): the collection's entries plus the host-owned keys (tenant,
// hive URL and token, and the hive's pins / private-network switch when host.json sets them).
// Pure. Each value is written in its dotenv spelling (entry.ts) and the whole file is re-parsed
// before it is returned; then the agent's own contract (src/secrets/env-schema.ts: its schema and
// limits) is applied to the text, so the host never writes a file the agent would refuse. Every
// refusal is one line naming the item id and the rule, never a value.
import { createHash } from 'node:crypto';
import { parse } from 'dotenv';
import { ClawdieError } from '../../src/errors.ts';
import { ENV_NAME_RE } from '../../src/protocol/names.ts';
import { parseEnvText } from '../../src/secrets/env-schema.ts';
import { dotenvQuote, type EnvEntry, sortedByName } from './entry.ts';

export const HOST_KEYS = [
  'CLAWDIE_TENANT',
  'CLAWDIE_HIVE_URL',
  'CLAWDIE_HIVE_TOKEN',
  'CLAWDIE_HIVE_TLS_PIN',
  'CLAWDIE_HIVE_PRIVATE_NETWORK',
] as const;

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

export function renderLine(entry: EnvEntry): string {
  if (!ENV_NAME_RE.test(entry.name))
    throw new RenderError(`item ${entry.itemId}: variable name is not ${ENV_NAME_RE.source}`);
  const spelled = dotenvQuote(entry.value);
  if (spelled === null)
    throw new RenderError(`item ${entry.itemId}: value cannot be represented in a .env file`);
  return `${entry.name}=${spelled}`;
}

/** The agent's verdict on the text; a refusal names the item behind the key it is about. */
function applyAgentContract(text: string, entries: readonly EnvEntry[]): void {
  const verdict = parseEnvText(text);
  if (verdict.ok) return;
  const entry = entries.find((e) => e.name === verdict.key && e.itemId !== 'host');
  if (entry) throw new RenderError(`item ${entry.itemId}: the agent would refuse ${verdict.reason}`);
  const largest = entries.reduce((a, b) => (b.value.length > a.value.length ? b : a));
  const hint = verdict.key === undefined ? ` (largest value: item ${largest.itemId})` : '';
  throw new RenderError(`the agent would refuse this .env: ${verdict.reason}${hint}`);
}

/** The file's text: host keys first, then the collection's entries sorted by name (stable output). */
export function renderEnv(collection: readonly EnvEntry[], host: HostValues): string {
  const reserved = new Set<string>(HOST_KEYS);
  const seen = new Set<string>();
  for (const entry of collection) {
    if (reserved.has(entry.name))
      throw new RenderError(`item ${entry.itemId}: ${entry.name} is set by the host`);
    if (seen.has(entry.name)) throw new RenderError(`item ${entry.itemId}: duplicate variable ${entry.name}`);
    seen.add(entry.name);
  }
  const entries: EnvEntry[] = [
    { name: 'CLAWDIE_TENANT', value: host.tenant, itemId: 'host' },
    { name: 'CLAWDIE_HIVE_URL', value: host.hiveUrl, itemId: 'host' },
    { name: 'CLAWDIE_HIVE_TOKEN', value: host.hiveToken, itemId: 'host' },
    ...(host.hivePins ? [{ name: 'CLAWDIE_HIVE_TLS_PIN', value: host.hivePins, itemId: 'host' }] : []),
    ...(host.hivePrivateNetwork
      ? [{ name: 'CLAWDIE_HIVE_PRIVATE_NETWORK', value: 'yes', itemId: 'host' }]
      : []),
    ...sortedByName(collection),
  ];
  const text = `${entries.map(renderLine).join('\n')}\n`;
  // Lines that parse alone can still interact (an unclosed quote swallowing the next line): re-check all.
  const back = parse(text);
  if (Object.keys(back).length !== entries.length)
    throw new RenderError('rendered .env does not parse back to the same keys');
  for (const entry of entries) {
    if (back[entry.name] !== entry.value)
      throw new RenderError(`item ${entry.itemId}: value does not round-trip`);
  }
  applyAgentContract(text, entries);
  return text;
}

export const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
