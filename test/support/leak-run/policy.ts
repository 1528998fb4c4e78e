// The run-wide leak scan's knowledge of secrets: which environment variable names carry which kind
// of secret (harvested from every process a test spawns), which files hold secrets legitimately
// (harvested at the end, and allowed to hold them), and what each other place may hold — the
// policy table of test/RELIABILITY.md, by path, since a run-wide scan does not know which suite
// made a file. Pure functions: names and paths in, kinds and allowances out.
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import type { Allowance, SecretKind } from '../leak-scan.ts';

/** Environment names whose values are secrets of a kind (DESIGN §4, §5, §6). */
export function kindOfEnvName(name: string): SecretKind | undefined {
  if (name === 'CLAWDIE_HIVE_ADMIN_TOKEN') return 'hive-admin';
  if (name === 'CLAWDIE_HIVE_TOKEN') return 'tenant-token';
  if (name === 'BW_CLIENTSECRET' || name === 'BW_PASSWORD' || name === 'BW_SESSION') return 'bw-credential';
  if (/^[A-Z0-9_]+_API_KEY$/.test(name)) return 'api-key';
  return undefined;
}

/**
 * `.env` keys that are configuration, not secrets (their values show in logs by design). A TLS pin
 * is the hash of the hive's public key, which the hive itself logs at start.
 */
const PLAIN_ENV_KEYS = new Set([
  'CLAWDIE_TENANT',
  'CLAWDIE_HIVE_URL',
  'CLAWDIE_HIVE_TLS_PIN',
  'CLAWDIE_MODEL',
  'CLAWDIE_USER',
  'BW_CLIENTID',
]);
const isPlainKey = (name: string): boolean => PLAIN_ENV_KEYS.has(name) || /_URL$/.test(name);

export interface Harvested {
  kind: SecretKind;
  value: string;
}

/** Secrets of an environment (a spawned process's env, /proc/<pid>/environ). */
export function secretsOfEnv(env: Readonly<Record<string, string | undefined>>): Harvested[] {
  const out: Harvested[] = [];
  for (const [name, value] of Object.entries(env)) {
    const kind = kindOfEnvName(name);
    if (kind && value) out.push({ kind, value });
  }
  return out;
}

/** Secrets of a dotenv file: a jail's `.env` (every non-plain value is a vault item) or `bw.env`. */
export function secretsOfDotenv(text: string, file: string): Harvested[] {
  let parsed: Record<string, string>;
  try {
    parsed = parseDotenv(text);
  } catch {
    return [];
  }
  const bw = path.basename(file) === 'bw.env';
  const out: Harvested[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (!value || isPlainKey(name)) continue;
    const kind = kindOfEnvName(name) ?? (bw ? undefined : 'vault-item');
    if (kind) out.push({ kind, value });
  }
  return out;
}

/**
 * The `.env` files the property tests render from generated values (test/unit/env-render.test.ts,
 * the fuzz test's `.env` section), in their own temp dirs: no value there is a secret, and taking
 * them for secrets would make any word fast-check draws ("prototype", "valueOf") a hit wherever it
 * is written — the bundles, for one. Those tests check their own marks themselves.
 */
export const isGeneratedEnv = (file: string): boolean =>
  file.split(path.sep).some((c) => /^clawdie-(render|fuzz-env)-/.test(c));

/** A jail's env file (the safe writer's temp names start with `.env` too). */
export const isJailEnvFile = (file: string): boolean =>
  /^\.env($|[.-])/.test(path.basename(file)) && path.basename(file) !== '.env.example';

/**
 * A file that is nothing but KEY=value lines (and comments) is an env file whatever its name — a
 * test's link target holding a tenant's values, a bw credentials variant — and may hold what env
 * files hold. A log line in the same form inside any other text does not make a file pure.
 */
export function isPureDotenv(data: Buffer): boolean {
  if (data.length === 0 || data.length > 64 * 1024) return false;
  const lines = data.toString('utf8').split('\n');
  return lines.every((l) => /^\s*(#.*)?$/.test(l) || /^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_]*=.*$/.test(l));
}

export const ENV_FILE: readonly Allowance[] = [
  { kind: 'tenant-token' },
  { kind: 'api-key' },
  { kind: 'vault-item' },
  { kind: 'bw-credential' },
];

/** The host store (root-only, DESIGN §6) and its journal files. */
export const isHostStore = (file: string): boolean =>
  /^tenants\.db(-wal|-shm|-journal)?$/.test(path.basename(file));

/** bw's own state: an appdata dir (`bw`, `bw-appdata`, `bw-<lane>`, `clawdie-bw-*`) or a `bw*.env`. */
export const isBwPlace = (file: string): boolean =>
  /^bw[\w-]*\.env$/.test(path.basename(file)) ||
  file.split(path.sep).some((c) => /^(bw|bw-[\w-]+|clawdie-bw-[\w-]+)$/.test(c));

/** The vault test server's fixture file (host-helper/demo/services/test-vault.ts): the vault itself, holding every value. */
export const isVaultFixture = (file: string): boolean =>
  path.basename(file) === 'fixture.json' && file.split(path.sep).some((c) => c.startsWith('clawdie-vault-'));

/**
 * A capture of bw's stdout (`<pid>-<n>-bw.out`): its answer channel to the wrapper, which reads
 * it into memory — `bw unlock --raw` prints the session, `bw list items` the vault's values.
 */
export const isBwAnswer = (file: string): boolean => /-bw\.out$/.test(path.basename(file));

/** A 0600 token file handed to `hive serve --admin-token-file` / the host config. */
export const isTokenFile = (file: string): boolean => /(^|[.-])token$/.test(path.basename(file));

/**
 * A 0600 header file for `curl -H @file` (`Authorization: Bearer …`, the demo's `admin.header`): a
 * token file in another form, so it may hold what token files hold.
 */
export const isHeaderFile = (file: string): boolean => /\.header$/.test(path.basename(file));

/**
 * What a file under the temp tree or the graveyard may hold (RELIABILITY.md, "What the leak scan
 * covers"). Kinds only: which tenant owns a value is checked by the chaos suites, which know.
 */
export function allowanceOf(file: string): Allowance[] {
  const allow: Allowance[] = [];
  if (isJailEnvFile(file)) allow.push({ kind: 'tenant-token' }, { kind: 'api-key' }, { kind: 'vault-item' });
  if (isHostStore(file)) allow.push({ kind: 'tenant-token' });
  if (isBwPlace(file)) allow.push({ kind: 'bw-credential' });
  if (isVaultFixture(file) || isBwAnswer(file)) {
    allow.push({ kind: 'bw-credential' }, { kind: 'vault-item' }, { kind: 'api-key' });
  }
  if (isTokenFile(file) || isHeaderFile(file)) allow.push({ kind: 'hive-admin' }, { kind: 'tenant-token' });
  return allow;
}

/**
 * Hive tokens are 256-bit random base64url (43 characters, DESIGN §5): in captured output, any
 * such word is reported even when no test registered it (a token minted in-process and logged).
 * Mixed case and a digit keep words like a 43-letter identifier out; `+`, `/` and a following `=`
 * extend the word, so a slice of a longer base64 text (a bw session) is not taken for a token.
 */
const TOKEN_SHAPE = /(?<![A-Za-z0-9_+/-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_+/=-])/g;

export function countTokenShaped(text: string): number {
  let n = 0;
  for (const m of text.matchAll(TOKEN_SHAPE)) {
    const w = m[0];
    if (/[a-z]/.test(w) && /[A-Z]/.test(w) && /[0-9]/.test(w)) n += 1;
  }
  return n;
}
