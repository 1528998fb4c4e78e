// Shared harness of the provisioning chaos suites: one vault test server with a collection per
// chaos tenant (a unique value each, versioned so every round writes new content), one hive, a dir
// backend jails root, one host.json per lane (own bw appdata dir: bw is serialized per appdata dir,
// lanes run truly in parallel), `clawdie-host` as real processes, and readers for the invariants
// (what a tenant's .env holds, what its tenants row says). Every output and argv goes to the scan.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parse } from 'dotenv';
import { startTestVault, type TestVault } from '../../host-helper/demo/services/test-vault.ts';
import { DEFAULT_FIXTURE } from '../../host-helper/demo/services/vault-server/fixture.ts';
import { type HiveProcess, nodeBinary, REPO_ROOT, startHive } from '../support/hive-process.ts';
import { type Allowance, LeakScanner } from '../support/leak-scan.ts';

const CLI = path.join(REPO_ROOT, 'host-helper/cli.ts');

export interface CliResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface Harness {
  tv: TestVault;
  hive: HiveProcess;
  base: string;
  jailsRoot: string;
  storePath: string;
  scan: LeakScanner;
  /** The vault value of tenant t at version v (unique per tenant and version). */
  valueFor(t: string, v: number): string;
  /** Sets tenant t's vault value to version v. */
  setVersion(t: string, v: number): Promise<void>;
  version(t: string): number;
  /** A host.json of its own (own bw appdata dir) for a lane. */
  config(lane: string): string;
  /** Starts `clawdie-host ARGS --config <lane config>`; the caller may kill it. */
  start(lane: string, args: string[]): { child: ChildProcess; done: Promise<CliResult> };
  run(lane: string, args: string[]): Promise<CliResult>;
  envPath(t: string): string;
  homeDir(t: string): string;
  row(t: string): { status: string; env_sha256: string | null } | undefined;
  /** Final scan of everything the harness produced; then removes it all. */
  close(): Promise<void>;
}

/**
 * Tenant t's API key in the vault. Ends with a fixed suffix so no tenant's key is a prefix of
 * another's (`…-kc-1-1` inside `…-kc-1-10`), which the leak scan would count as a cross-tenant value.
 */
export const apiKeyFor = (t: string): string => `sk-or-chaos-${t}-key`;

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

export interface EnvCheck {
  /** 'none' when no file; 'ok' complete and of this tenant; else what is wrong. */
  state: 'none' | 'ok' | 'partial' | 'foreign' | 'not-regular' | 'bad-mode';
  version?: number;
  sha?: string;
  /** Other tenants' values found in it. */
  crossTenant: number;
}

const KEYS = [
  'CLAWDIE_HIVE_TOKEN',
  'CLAWDIE_HIVE_URL',
  'CLAWDIE_TENANT',
  'OPENROUTER_API_KEY',
  'TENANT_SECRET',
];

/** What tenant t's .env is: absent, or complete and its own (which value version), or broken. */
export function checkEnv(h: Harness, t: string, tenants: readonly string[]): EnvCheck {
  const p = h.envPath(t);
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  if (!st) return { state: 'none', crossTenant: 0 };
  if (!st.isFile() || st.nlink !== 1) return { state: 'not-regular', crossTenant: 0 };
  const raw = fs.readFileSync(p);
  const text = raw.toString('utf8');
  let crossTenant = 0;
  for (const o of tenants) if (o !== t && text.includes(`chaos-value-${o}-`)) crossTenant += 1;
  if ((st.mode & 0o777) !== 0o600) return { state: 'bad-mode', crossTenant };
  const env = parse(raw);
  if (
    Object.keys(env).sort().join() !== KEYS.join() ||
    !text.endsWith('\n') ||
    env.CLAWDIE_TENANT !== t ||
    env.OPENROUTER_API_KEY !== apiKeyFor(t)
  )
    return { state: 'partial', crossTenant };
  const m = /^chaos-value-([a-z0-9-]+)-v(\d+)-[0-9a-f]{12}$/.exec(env.TENANT_SECRET ?? '');
  if (!m || m[1] !== t || h.valueFor(t, Number(m[2])) !== env.TENANT_SECRET)
    return { state: m && m[1] !== t ? 'foreign' : 'partial', crossTenant };
  return { state: 'ok', version: Number(m[2]), sha: sha256(raw), crossTenant };
}

export async function startHarness(tenants: readonly string[]): Promise<Harness> {
  const salt = randomBytes(6).toString('hex');
  const valueFor = (t: string, v: number): string =>
    `chaos-value-${t}-v${v}-${sha256(`${salt}${t}${v}`).slice(0, 12)}`;
  const fixture = structuredClone(DEFAULT_FIXTURE);
  const org = fixture.organizations?.[0];
  for (const t of tenants) {
    org?.collections?.push({
      name: t,
      items: [
        { name: 'TENANT_SECRET', type: 'login', password: valueFor(t, 0) },
        { name: 'OPENROUTER_API_KEY', type: 'login', password: apiKeyFor(t) },
      ],
    });
  }
  const [tv, hive] = await Promise.all([startTestVault({ fixture }), startHive()]);
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-chaos-host-'));
  const jailsRoot = path.join(base, 'jails');
  const storePath = path.join(base, 'state', 'tenants.db');
  fs.mkdirSync(jailsRoot);
  const adminTokenFile = path.join(base, 'hive-admin.token');
  fs.writeFileSync(adminTokenFile, `${hive.adminToken}\n`, { mode: 0o600 });
  for (const t of tenants)
    fs.mkdirSync(path.join(jailsRoot, t, 'root', 'home', 'clawdie'), { recursive: true, mode: 0o700 });

  const scan = new LeakScanner();
  scan.secret('hive-admin', hive.adminToken);
  scan.secret('bw-credential', tv.secrets[0]!);
  scan.secret('bw-credential', tv.secrets[1]!);
  const ours = new Set(tenants.flatMap((t) => [valueFor(t, 0), apiKeyFor(t)]));
  for (const s of tv.secrets.slice(2)) if (!ours.has(s)) scan.secret('vault-item', s, 'default-fixture');
  for (const t of tenants) {
    scan.secret('vault-item', valueFor(t, 0), t);
    scan.secret('vault-item', apiKeyFor(t), t);
  }

  const versions = new Map<string, number>();
  const itemIds = new Map<string, string>();
  const described = await tv.describe();
  for (const t of tenants) {
    const coll = described.collections.find((c) => c.name === t)!;
    const item = described.items.find(
      (i) => i.name === 'TENANT_SECRET' && i.collectionIds.includes(coll.id),
    )!;
    itemIds.set(t, item.id);
    versions.set(t, 0);
  }

  const configs = new Map<string, string>();
  const config = (lane: string): string => {
    const known = configs.get(lane);
    if (known) return known;
    const file = path.join(base, `host-${lane}.json`);
    const c = {
      store: storePath,
      vault: {
        server: tv.config.server,
        organization: tv.config.organization,
        credentialsFile: tv.config.credentialsFile,
        appdataDir: path.join(base, `bw-${lane}`),
        bwBin: tv.config.bwBin,
        extraCaCertsFile: tv.config.extraCaCertsFile,
        timeoutMs: 60_000,
      },
      hive: { url: hive.url, adminTokenFile },
      jails: { backend: 'dir', root: jailsRoot, user: 'clawdie' },
    };
    fs.writeFileSync(file, JSON.stringify(c, null, 2), { mode: 0o644 });
    configs.set(lane, file);
    return file;
  };

  const start = (lane: string, args: string[]): { child: ChildProcess; done: Promise<CliResult> } => {
    const argv = [CLI, ...args, '--config', config(lane)];
    scan.argv(`clawdie-host ${args[0]}`, argv);
    const child = spawn(nodeBinary(), argv, {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const done = new Promise<CliResult>((resolve) => {
      child.on('close', (code, signal) => {
        scan.text(`stdout of clawdie-host ${args.join(' ').slice(0, 60)}`, stdout);
        scan.text(`stderr of clawdie-host ${args.join(' ').slice(0, 60)}`, stderr);
        resolve({ code, signal, stdout, stderr });
      });
    });
    return { child, done };
  };

  let db: DatabaseSync | undefined;
  const h: Harness = {
    tv,
    hive,
    base,
    jailsRoot,
    storePath,
    scan,
    valueFor,
    version: (t) => versions.get(t) ?? 0,
    async setVersion(t, v) {
      await tv.mutate({ op: 'updateItem', id: itemIds.get(t)!, password: valueFor(t, v) });
      versions.set(t, v);
      scan.secret('vault-item', valueFor(t, v), t);
    },
    config,
    start,
    run: (lane, args) => start(lane, args).done,
    envPath: (t) => path.join(jailsRoot, t, 'root', 'home', 'clawdie', '.env'),
    homeDir: (t) => path.join(jailsRoot, t, 'root', 'home', 'clawdie'),
    row(t) {
      db ??= new DatabaseSync(storePath, { readOnly: true });
      return db.prepare('SELECT status, env_sha256 FROM tenants WHERE tenant_id = ?').get(t) as
        | { status: string; env_sha256: string | null }
        | undefined;
    },
    async close() {
      db?.close();
      killOrphans(base);
      // Tenant tokens: whatever the store holds now (earlier ones were rotated away, and were
      // scanned for while they lived only if registered; the store is the source of truth).
      try {
        const s = new DatabaseSync(storePath, { readOnly: true });
        for (const r of s.prepare('SELECT tenant_id, token FROM hive_tokens').all() as Array<{
          tenant_id: string;
          token: string;
        }>)
          scan.secret('tenant-token', r.token, r.tenant_id);
        s.close();
      } catch {}
      // The hive keeps token hashes only: its db, -wal and -shm hold no secret (stop() removes them).
      scan.tree(path.dirname(hive.dbPath));
      await hive.stop();
      scan.text('hive output', hive.output());
      scanHost(h);
      await tv.close();
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
  return h;
}

/**
 * Which file may hold which secret (DESIGN §1): a jail's .env only its own tenant's values and
 * token; the root-only host store tenant tokens (never a vault value or the bootstrap); bw's
 * appdata and bw.env only the bw credential; the admin token file only the admin token.
 */
export function hostPolicy(h: Harness, file: string): readonly Allowance[] | 'skip' {
  const rel = path.relative(h.base, file);
  const jail = /^jails\/([^/]+)\/root\//.exec(rel);
  if (jail)
    return [
      { kind: 'vault-item', owner: jail[1]! },
      { kind: 'tenant-token', owner: jail[1]! },
    ];
  if (rel.startsWith('state/tenants.db')) return [{ kind: 'tenant-token' }];
  if (rel.startsWith('bw-')) return [{ kind: 'bw-credential' }];
  if (rel === 'hive-admin.token') return [{ kind: 'hive-admin' }];
  return [];
}

/**
 * A SIGKILLed clawdie-host leaves its `bw serve` child behind (reparented away from us; the next
 * session on that appdata dir reaps it). Kill the ones still running that belong to this
 * harness: their environment names its temp dir.
 */
function killOrphans(base: string): void {
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (Number(pid) === process.pid) continue;
      if (fs.readFileSync(`/proc/${pid}/environ`, 'latin1').includes(base))
        process.kill(Number(pid), 'SIGKILL');
    } catch {}
  }
}

function scanHost(h: Harness): void {
  h.scan.tree(h.base, (f) => hostPolicy(h, f));
  h.scan.tree(h.tv.dir, (f) =>
    path.basename(f) === 'bw.env' || f.includes('/bw-appdata/') ? [{ kind: 'bw-credential' }] : [],
  );
}
