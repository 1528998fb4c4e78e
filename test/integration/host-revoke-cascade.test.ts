// `clawdie-host revoke T` reaches T's spawned descendants (DESIGN §8) with real processes: a hive
// with a spawn policy records parent → child → grandchild through POST /v1/spawn (the executor is a
// script that only drains its stdin), the host store holds the three plus a bystander with their
// .env files in place (written by the real safe writer, dir backend), and `clawdie-host revoke
// parent --json` must remove all three .env files and mark all three rows revoked, deepest first,
// leaving the bystander alone. With the hive unreachable, the parent is still revoked as far as it
// can be (its .env removed, its row revoked) and the command fails, saying the descendants could not
// be listed.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverEnv } from '../../host-helper/envfile/deliver.ts';
import { dirBackend } from '../../host-helper/jails/dir.ts';
import { TenantsStore } from '../../host-helper/store/tenants-store.ts';
import { bearerJson } from '../support/bearer-json.ts';
import { type HiveProcess, nodeBinary, REPO_ROOT, startHive } from '../support/hive-process.ts';
import { type Run, runToEnd } from '../support/run-to-end.ts';

const CLI = path.join(REPO_ROOT, 'host-helper/cli.ts');
const USER = 'clawdie';
let dir: string;
let hive: HiveProcess;

const call = (method: string, url: string, token: string, body?: unknown) =>
  bearerJson(hive.url, method, url, token, body);

async function registerAgent(token: string, tenant: string, agentId: string): Promise<void> {
  const r = await call('POST', '/v1/agents', token, {
    agentId,
    tenant,
    capabilities: ['spawn', 'chat'],
    identityHash: 'a'.repeat(64),
    version: 'test',
    os: 'linux',
  });
  expect(r.status).toBe(200);
}

async function spawnChild(token: string, parentAgent: string): Promise<string> {
  const r = await call('POST', '/v1/spawn', token, { parent: parentAgent, capabilities: ['chat', 'spawn'] });
  expect(r.status).toBe(201);
  return r.json.child as string;
}

/** A host.json (dir backend) pointing at `hiveUrl`; the vault part is never used by revoke. */
async function hostConfig(
  name: string,
  hiveUrl: string,
): Promise<{ file: string; store: string; jails: string }> {
  const adminTokenFile = path.join(dir, 'hive-admin.token');
  await writeFile(adminTokenFile, `${hive.adminToken}\n`, { mode: 0o600 });
  const store = path.join(dir, `${name}.db`);
  const jails = path.join(dir, `jails-${name}`);
  const file = path.join(dir, `${name}.json`);
  await mkdir(jails, { mode: 0o700 });
  const config = {
    store,
    vault: {
      server: 'https://127.0.0.1:9',
      organization: 'Clawdie',
      credentialsFile: path.join(dir, 'bw.env'),
      appdataDir: path.join(dir, 'bw'),
    },
    hive: { url: hiveUrl, adminTokenFile },
    jails: { backend: 'dir', root: jails, user: USER },
  };
  await writeFile(file, JSON.stringify(config), { mode: 0o644 });
  return { file, store, jails };
}

/** Rows and .env files as provision would leave them (status active). */
async function provisioned(storePath: string, jails: string, tenants: string[]): Promise<void> {
  const backend = dirBackend(jails, USER);
  const store = new TenantsStore(storePath);
  try {
    for (const t of tenants) {
      const now = new Date().toISOString();
      store.register({ tenant: t, jail: t, collectionName: t, collectionId: null, shared: false, now });
      await backend.create(t);
      const out = await deliverEnv(backend, t, USER, `CLAWDIE_TENANT=${t}\nOPENROUTER_API_KEY=key-of-${t}\n`);
      store.setStatus(t, 'active', now, { envSha256: out.sha256 });
    }
  } finally {
    store.close();
  }
}

function statuses(storePath: string, tenants: string[]): string[] {
  const store = new TenantsStore(storePath);
  try {
    return tenants.map((t) => store.require(t).status);
  } finally {
    store.close();
  }
}

const envPath = (jails: string, t: string): string => path.join(jails, t, 'root', 'home', USER, '.env');

const runCli = (args: string[]): Promise<Run> => runToEnd(nodeBinary(), [CLI, ...args]);

/** A loopback port nothing listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'clawdie-revoke-cascade-'));
  const executor = path.join(dir, 'executor.mjs');
  await writeFile(executor, 'for await (const _ of process.stdin);\n');
  const spawnPolicyFile = path.join(dir, 'spawn-policy.json');
  await writeFile(
    spawnPolicyFile,
    JSON.stringify({
      enabled: true,
      maxDepth: 2,
      maxChildrenPerParent: 5,
      maxTotalPerTenant: 5,
      executor: { command: [nodeBinary(), executor, '{child}'], timeoutSeconds: 20 },
    }),
    { mode: 0o600 },
  );
  hive = await startHive({ spawnPolicyFile });
});

afterAll(async () => {
  await hive?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('clawdie-host revoke cascades to spawned descendants', () => {
  it('removes the .env of the parent, child and grandchild, marks them revoked, spares the bystander', async () => {
    const parentToken = await hive.mintToken('parent');
    await registerAgent(parentToken, 'parent', 'queen');
    const child = await spawnChild(parentToken, 'queen');
    const childToken = await hive.mintToken(child);
    await registerAgent(childToken, child, 'child-queen');
    const grand = await spawnChild(childToken, 'child-queen');
    const grandToken = await hive.mintToken(grand);
    const bystanderToken = await hive.mintToken('bystander');

    const listed = await call('GET', '/v1/admin/tenants/parent/descendants', hive.adminToken);
    expect(listed).toEqual({ status: 200, json: { tenants: [child, grand] } });
    expect((await call('GET', '/v1/admin/tenants/parent/descendants', parentToken)).status).toBe(403);

    const { file, store, jails } = await hostConfig('ok', hive.url);
    const all = ['parent', child, grand, 'bystander'];
    await provisioned(store, jails, all);
    for (const t of all) expect(existsSync(envPath(jails, t))).toBe(true);

    const r = await runCli(['revoke', 'parent', '--json', '--config', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      tenant: string;
      tokenRevoked: boolean;
      envRemoved: boolean;
      descendants: { tenant: string; tokenRevoked: boolean; envRemoved: boolean; errors: string[] }[];
      notOnThisHost: string[];
    };
    expect(out).toMatchObject({ tenant: 'parent', tokenRevoked: true, envRemoved: true, notOnThisHost: [] });
    expect(out.descendants).toEqual([
      { tenant: grand, tokenRevoked: true, envRemoved: true, errors: [] },
      { tenant: child, tokenRevoked: true, envRemoved: true, errors: [] },
    ]);
    for (const t of ['parent', child, grand]) expect(existsSync(envPath(jails, t))).toBe(false);
    expect(statuses(store, all)).toEqual(['revoked', 'revoked', 'revoked', 'active']);
    expect(existsSync(envPath(jails, 'bystander'))).toBe(true);
    for (const t of [parentToken, childToken, grandToken])
      expect((await call('GET', '/v1/tasks/none', t)).status).toBe(401);
    expect((await call('GET', '/v1/tasks/none', bystanderToken)).status).toBe(404);

    // Revoked already: the lineage still lists them, so running it again is a clean no-op.
    const again = await runCli(['revoke', 'parent', '--config', file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`descendant ${grand}: hive token revoked, .env removed`);
  });

  it('fails closed when the hive is unreachable: the parent .env goes, the exit says descendants are unknown', async () => {
    const { file, store, jails } = await hostConfig('down', `http://127.0.0.1:${await deadPort()}`);
    await provisioned(store, jails, ['lonely']);
    const r = await runCli(['revoke', 'lonely', '--json', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/descendants could not be listed: hive unreachable/);
    const out = JSON.parse(r.stdout) as {
      tokenRevoked: boolean;
      envRemoved: boolean;
      descendantsError?: string;
    };
    expect(out).toMatchObject({ tokenRevoked: false, envRemoved: true });
    expect(out.descendantsError).toMatch(/hive unreachable/);
    expect(existsSync(envPath(jails, 'lonely'))).toBe(false);
    // Revoked it stays (provision refuses it) while the row says what is left to do.
    expect(statuses(store, ['lonely'])).toEqual(['revoked']);
    const st = await runCli(['status', 'lonely', '--json', '--config', file]);
    expect(JSON.parse(st.stdout).reason).toMatch(/^revoke incomplete: hive token: hive unreachable/);
    expect(r.stdout + r.stderr).not.toContain(hive.adminToken);
  });
});
