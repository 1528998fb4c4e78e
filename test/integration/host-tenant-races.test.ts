// Decisions on a tenant's row race with other clawdie-host commands (DESIGN §6: every decision that
// depends on the row is made under the tenant's lock on a fresh read). Real processes throughout:
// `clawdie-host` CLIs, the real bw against the vault test server, the real hive with a spawn policy
// whose executor is a real `clawdie-host spawn-agent`, the dir backend. The vault HOLDS a bw login
// (a steering fault) so a command is known to be inside its bw session while another one runs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parse } from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestVault, type TestVault } from '../../host-helper/demo/services/test-vault.ts';
import { DEFAULT_FIXTURE } from '../../host-helper/demo/services/vault-server/fixture.ts';
import { TenantsStore } from '../../host-helper/store/tenants-store.ts';
import { bearerJson } from '../support/bearer-json.ts';
import { type HiveProcess, nodeBinary, REPO_ROOT, startHive } from '../support/hive-process.ts';
import { pathOnlyEnv, type Run, runToEnd } from '../support/run-to-end.ts';

const CLI = path.join(REPO_ROOT, 'host-helper/cli.ts');
const TENANTS = ['racer', 'reg', 'queen'];
const LOGIN = '/identity/connect/token';
/** Admin calls (host.json hive.timeoutMs): the one the spawn in flight holds up times out; the
 * others must not, even on a loaded machine. */
const HIVE_TIMEOUT_MS = 6_000;

let tv: TestVault;
let hive: HiveProcess;
let base: string;
let jailsRoot: string;
let goFile: string;
let startedFile: string;
const outputs: string[] = [];

/** host.json of a lane: its own bw appdata dir, so lanes run bw sessions side by side. */
const configOf = (lane: string): string => path.join(base, `host-${lane}.json`);

function writeConfig(lane: string): void {
  const c = {
    store: path.join(base, 'state', 'tenants.db'),
    // A held login waits as long as the command run meanwhile takes (a whole bw session of its own).
    vault: { ...tv.config, appdataDir: path.join(base, `bw-${lane}`), timeoutMs: 300_000 },
    hive: { url: hive.url, adminTokenFile: path.join(base, 'hive-admin.token'), timeoutMs: HIVE_TIMEOUT_MS },
    jails: { backend: 'dir', root: jailsRoot, user: 'clawdie' },
  };
  fs.writeFileSync(configOf(lane), JSON.stringify(c), { mode: 0o644 });
}

const cli = (lane: string, args: string[]): Promise<Run> =>
  runToEnd(nodeBinary(), [CLI, ...args, '--config', configOf(lane)], {
    cwd: REPO_ROOT,
    env: pathOnlyEnv(),
    outputs,
  });

const envPath = (t: string): string => path.join(jailsRoot, t, 'root', 'home', 'clawdie', '.env');
const envToken = (t: string): string => parse(fs.readFileSync(envPath(t))).CLAWDIE_HIVE_TOKEN as string;

/** The row and the stored token, read from the store file itself. */
function row(t: string): { status: string; collection_name: string; token: string | undefined } {
  const db = new DatabaseSync(path.join(base, 'state', 'tenants.db'), { readOnly: true });
  try {
    const r = db.prepare('SELECT status, collection_name FROM tenants WHERE tenant_id = ?').get(t) as {
      status: string;
      collection_name: string;
    };
    const tok = db.prepare('SELECT token FROM hive_tokens WHERE tenant_id = ?').get(t) as
      | { token: string }
      | undefined;
    return { ...r, token: tok?.token };
  } finally {
    db.close();
  }
}

async function hiveStatusWith(token: string): Promise<number> {
  return (await bearerJson(hive.url, 'GET', '/v1/tasks/00000000-0000-0000-0000-000000000000', token)).status;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `ready()` holds (bounded: a broken setup fails instead of hanging). */
async function until(what: string, ready: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ready())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Runs `args` with the vault holding its bw login; `meanwhile` runs once it is held, then it goes on. */
async function whileInBw(lane: string, args: string[], meanwhile: () => Promise<void>): Promise<Run> {
  await tv.mutate({ op: 'holdNext', count: 1, path: LOGIN });
  const running = cli(lane, args);
  try {
    await until(
      'bw login held',
      async () => ((await tv.mutate({ op: 'held' })) as { held: number }).held > 0,
    );
    await meanwhile();
  } finally {
    await tv.mutate({ op: 'release' });
    await tv.mutate({ op: 'clearFaults' });
  }
  return running;
}

beforeAll(async () => {
  const fixture = structuredClone(DEFAULT_FIXTURE);
  const collections = fixture.organizations?.[0]?.collections;
  for (const name of [...TENANTS, 'reg-alt']) {
    collections?.push({
      name,
      items: [{ name: 'OPENROUTER_API_KEY', type: 'login', password: `sk-or-race-${name}-key` }],
    });
  }
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-races-'));
  jailsRoot = path.join(base, 'jails');
  fs.mkdirSync(jailsRoot);
  goFile = path.join(base, 'go');
  startedFile = path.join(base, 'started');
  // The spawn executor: says which child it was asked for, waits for the test's go, then runs the
  // real spawn-agent (as `clawdie-host spawn-agent {child} --jail --collection {tenant}` would).
  const executor = path.join(base, 'executor.mjs');
  fs.writeFileSync(
    executor,
    `import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
const [child, tenant] = process.argv.slice(2);
fs.writeFileSync(${JSON.stringify(startedFile)}, child);
while (!fs.existsSync(${JSON.stringify(goFile)})) await new Promise((r) => setTimeout(r, 50));
const r = spawnSync(${JSON.stringify(nodeBinary())}, [${JSON.stringify(CLI)}, 'spawn-agent', child, '--jail',
  '--collection', tenant, '--config', ${JSON.stringify(path.join(base, 'host-executor.json'))}], { stdio: 'ignore' });
fs.writeFileSync(${JSON.stringify(`${startedFile}.exit`)}, String(r.status));
process.exit(r.status ?? 1);
`,
  );
  const policy = path.join(base, 'spawn-policy.json');
  fs.writeFileSync(
    policy,
    JSON.stringify({
      enabled: true,
      executor: { command: [nodeBinary(), executor, '{child}', '{tenant}'], timeoutSeconds: 120 },
    }),
    { mode: 0o600 },
  );
  [tv, hive] = await Promise.all([startTestVault({ fixture }), startHive({ spawnPolicyFile: policy })]);
  fs.writeFileSync(path.join(base, 'hive-admin.token'), `${hive.adminToken}\n`, { mode: 0o600 });
  for (const lane of ['a', 'b', 'executor']) writeConfig(lane);
  for (const t of TENANTS)
    fs.mkdirSync(path.join(jailsRoot, t, 'root', 'home', 'clawdie'), { recursive: true, mode: 0o700 });
  // Rows as register-tenant leaves them (pending, collection by name): saves a bw session.
  const store = new TenantsStore(path.join(base, 'state', 'tenants.db'));
  const now = new Date().toISOString();
  for (const t of TENANTS)
    store.register({ tenant: t, jail: t, collectionName: t, collectionId: null, shared: false, now });
  store.close();
  const prov = await cli('a', ['provision', 'racer', 'queen']);
  expect(prov.code, prov.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await Promise.all([tv?.close(), hive?.stop()]);
  if (base) fs.rmSync(base, { recursive: true, force: true });
  for (const s of tv?.secrets.slice(0, 2) ?? []) expect(outputs.join('\n')).not.toContain(s);
});

describe('tenant decisions are made under the lock on a fresh read', () => {
  it('a revoke while provision is inside its bw session stays revoked (no token, no .env)', async () => {
    const before = envToken('racer');
    expect(await hiveStatusWith(before)).toBe(404);
    let revoke: Run | undefined;
    const prov = await whileInBw('a', ['provision', 'racer'], async () => {
      revoke = await cli('b', ['revoke', 'racer']);
    });
    expect(revoke?.code, revoke?.stderr).toBe(0);
    expect(prov.code, prov.stdout + prov.stderr).toBe(4);
    expect(prov.stderr.trim().split('\n')).toHaveLength(1);
    expect(prov.stderr).toMatch(/racer.*revoked/);
    const after = row('racer');
    expect(after.status).toBe('revoked');
    expect(after.token).toBeUndefined();
    expect(fs.existsSync(envPath('racer'))).toBe(false);
    expect(await hiveStatusWith(before)).toBe(401);
  }, 180_000);

  it('spawn-agent does not bring a revoked tenant back (exit 4, nothing written)', async () => {
    const r = await cli('a', ['spawn-agent', 'racer']);
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stderr).toMatch(/racer is revoked/);
    expect(row('racer')).toMatchObject({ status: 'revoked', token: undefined });
    expect(fs.existsSync(envPath('racer'))).toBe(false);
  }, 120_000);

  it('register-tenant inside its bw session does not undo a collection changed meanwhile', async () => {
    expect(row('reg').collection_name).toBe('reg');
    let change: Run | undefined;
    const first = await whileInBw('a', ['register-tenant', 'reg'], async () => {
      change = await cli('b', ['register-tenant', 'reg', '--collection', 'reg-alt', '--json']);
    });
    expect(change?.code, change?.stderr).toBe(0);
    expect(first.code, first.stderr).toBe(0);
    expect(row('reg').collection_name).toBe('reg-alt');
    const st = await cli('a', ['status', 'reg', '--json']);
    const ids = await tv.describe();
    expect(JSON.parse(st.stdout).collection_id).toBe(ids.collections.find((c) => c.name === 'reg-alt')?.id);
  }, 180_000);

  it('revoking a parent while its spawn is in flight leaves the child revoked on this host', async () => {
    const queenToken = envToken('queen');
    const agent = await bearerJson(hive.url, 'POST', '/v1/agents', queenToken, {
      agentId: 'queen-1',
      tenant: 'queen',
      capabilities: ['spawn', 'chat'],
      identityHash: 'a'.repeat(64),
      version: 'test',
      os: 'linux',
    });
    expect(agent.status).toBe(200);
    const spawned = bearerJson(hive.url, 'POST', '/v1/spawn', queenToken, {
      parent: 'queen-1',
      capabilities: ['chat'],
    }).catch((err: unknown) => ({ status: -1, json: String(err) }));
    await until('executor started', () => fs.existsSync(startedFile));
    const child = fs.readFileSync(startedFile, 'utf8');
    // The revoke runs while the executor waits: the hive answers the token revocation only once
    // the spawn in flight is done, so this first revoke times out there (hive.timeoutMs) and says
    // so; the child it lists already has no row here, and is recorded as revoked.
    const first = await cli('b', ['revoke', 'queen', '--json']);
    expect(first.code, first.stdout + first.stderr).toBe(1);
    expect(first.stderr).toMatch(
      /^clawdie-host revoke: queen: hive token: hive unreachable \(UND_ERR_HEADERS_TIMEOUT\)\n$/,
    );
    expect(JSON.parse(first.stdout)).toMatchObject({ tokenRevoked: false, notOnThisHost: [child] });
    expect(row('queen').status).toBe('revoked');
    expect(row(child).status).toBe('revoked');
    // Now the spawn goes on: spawn-agent for the child must not provision it.
    fs.writeFileSync(goFile, '');
    const answer = await spawned;
    expect(answer.status).toBe(503);
    expect(fs.readFileSync(`${startedFile}.exit`, 'utf8')).toBe('4');
    const again = await cli('b', ['revoke', 'queen']);
    expect(again.code, again.stderr).toBe(0);
    for (const t of ['queen', child]) {
      expect(row(t)).toMatchObject({ status: 'revoked', token: undefined });
      expect(fs.existsSync(envPath(t))).toBe(false);
    }
    expect(await hiveStatusWith(queenToken)).toBe(401);
  }, 240_000);
});
