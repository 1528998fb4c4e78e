// clawdie-host provisioning end to end, as real processes: the real bw against the vault test
// server, the real hive coordinator, the dir backend, real files, modes and owners. One vault and
// one hive for the whole file (bw is slow: every provision run costs one bw session).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parse } from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../host-helper/cli.ts';
import { startTestVault, type TestVault } from '../../host-helper/demo/services/test-vault.ts';
import { DEFAULT_FIXTURE } from '../../host-helper/demo/services/vault-server/fixture.ts';
import { MAX_SECRET_CHARS } from '../../src/secrets/env-schema.ts';
import { type HiveProcess, nodeBinary, REPO_ROOT, startHive } from '../support/hive-process.ts';
import { pathOnlyEnv, type Run, runToEnd } from '../support/run-to-end.ts';

const CLI = path.join(REPO_ROOT, 'host-helper/cli.ts');
const CONCURRENT = 20;
const concurrentTenants = Array.from({ length: CONCURRENT }, (_, i) => `c${String(i + 1).padStart(2, '0')}`);
const secretOf = (t: string): string => `value-for-${t}-${t.split('').reverse().join('')}-x`;

let tv: TestVault;
let hive: HiveProcess;
let base: string;
let configFile: string;
let jailsRoot: string;
const outputs: string[] = [];

function cli(
  args: string[],
  options: { config?: string | null; env?: Record<string, string> } = {},
): Promise<Run> {
  const config = options.config === undefined ? configFile : options.config;
  const argv = [CLI, ...args, ...(config ? ['--config', config] : [])];
  return runToEnd(nodeBinary(), argv, { cwd: REPO_ROOT, env: pathOnlyEnv(options.env), outputs });
}

/** The real dispatcher in this process (no spawn): for the bad-input matrix. */
async function inProcess(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (push: (s: string) => void): Writable =>
    new Writable({
      write(chunk, _enc, done) {
        push(String(chunk));
        done();
      },
    });
  const code = await main(argv, {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    env: {},
    signal: new AbortController().signal,
  });
  outputs.push(stdout, stderr);
  return { code, stdout, stderr };
}

const envPath = (tenant: string): string => path.join(jailsRoot, tenant, 'root', 'home', 'clawdie', '.env');
const readEnv = (tenant: string): Record<string, string> => parse(fs.readFileSync(envPath(tenant)));

async function status(tenant: string): Promise<{ status: string; reason: string | null }> {
  const r = await cli(['status', tenant, '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { status: string; reason: string | null };
}

async function hiveStatusWith(token: string): Promise<number> {
  const res = await fetch(`${hive.url}/v1/tasks/00000000-0000-0000-0000-000000000000`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await res.body?.cancel();
  return res.status;
}

function writeConfig(file: string, patch: (c: Record<string, unknown>) => void = () => {}): string {
  const c: Record<string, unknown> = {
    store: path.join(base, 'state', 'tenants.db'),
    vault: {
      server: tv.config.server,
      organization: tv.config.organization,
      credentialsFile: tv.config.credentialsFile,
      appdataDir: tv.config.appdataDir,
      bwBin: tv.config.bwBin,
      extraCaCertsFile: tv.config.extraCaCertsFile,
      timeoutMs: 60_000,
    },
    hive: { url: hive.url, adminTokenFile: path.join(base, 'hive-admin.token') },
    jails: { backend: 'dir', root: jailsRoot, user: 'clawdie' },
  };
  patch(c);
  fs.writeFileSync(file, JSON.stringify(c, null, 2), { mode: 0o644 });
  return file;
}

function makeDirJail(tenant: string): void {
  fs.mkdirSync(path.join(jailsRoot, tenant, 'root', 'home', 'clawdie'), { recursive: true, mode: 0o700 });
}

beforeAll(async () => {
  const fixture = structuredClone(DEFAULT_FIXTURE);
  const org = fixture.organizations?.[0];
  for (const t of concurrentTenants) {
    org?.collections?.push({
      name: t,
      items: [
        { name: 'TENANT_SECRET', type: 'login', password: secretOf(t) },
        { name: 'DEEPSEEK_API_KEY', type: 'login', password: `sk-ds-${t}-key` },
      ],
    });
  }
  [tv, hive] = await Promise.all([startTestVault({ fixture }), startHive()]);
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-host-'));
  jailsRoot = path.join(base, 'jails');
  fs.mkdirSync(jailsRoot);
  fs.writeFileSync(path.join(base, 'hive-admin.token'), `${hive.adminToken}\n`, { mode: 0o600 });
  configFile = writeConfig(path.join(base, 'host.json'));
  for (const t of ['acme', 'globex', 'nocoll', ...concurrentTenants]) makeDirJail(t);
}, 120_000);

afterAll(async () => {
  await Promise.all([tv?.close(), hive?.stop()]);
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

describe('clawdie-host provisioning (dir backend, real bw, real hive)', () => {
  it('registers a batch in one bw session, noting a missing collection', async () => {
    const reg = await cli(['register-tenant', 'acme', 'nocoll', ...concurrentTenants, '--json']);
    expect(reg.code, reg.stderr).toBe(0);
    const { tenants } = JSON.parse(reg.stdout) as { tenants: Record<string, unknown>[] };
    expect(tenants[0]).toMatchObject({
      tenant: 'acme',
      created: true,
      status: 'pending',
      collectionFound: true,
    });
    expect(tenants[1]).toMatchObject({
      tenant: 'nocoll',
      created: true,
      collectionFound: false,
      collectionId: null,
    });
    expect(tenants).toHaveLength(CONCURRENT + 2);
    const human = await inProcess(['register-tenant', '--config', configFile]);
    expect(human.code).toBe(2); // no tenant given
  }, 240_000);

  it('provisions, verifies and marks active (happy path)', async () => {
    const prov = await cli(['provision', 'acme', '--json']);
    expect(prov.code, prov.stderr).toBe(0);
    expect(JSON.parse(prov.stdout)).toMatchObject({
      tenant: 'acme',
      result: 'written',
      via: 'host',
      status: 'active',
    });

    const st = fs.lstatSync(envPath('acme'));
    expect(st.isFile()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(process.getuid?.());
    const env = readEnv('acme');
    expect(env).toMatchObject({
      CLAWDIE_TENANT: 'acme',
      CLAWDIE_HIVE_URL: hive.url,
      OPENROUTER_API_KEY: 'sk-or-test-acme-0001',
      CLAWDIE_MODEL: 'openrouter/test-model',
      EXTRA: 'extra-value',
      EXTRA_FLAG: 'on',
    });
    expect(Object.keys(env).sort()).toEqual(
      [
        'CLAWDIE_HIVE_TOKEN',
        'CLAWDIE_HIVE_URL',
        'CLAWDIE_MODEL',
        'CLAWDIE_TENANT',
        'EXTRA',
        'EXTRA_FLAG',
        'OPENROUTER_API_KEY',
      ].sort(),
    );
    expect(await hiveStatusWith(env.CLAWDIE_HIVE_TOKEN as string)).toBe(404); // authenticated: the task just doesn't exist
    expect(await status('acme')).toMatchObject({ status: 'active', reason: null });

    const list = await cli(['list']);
    expect(list.stdout).toMatch(/acme\s+active\s+acme/);
  }, 240_000);

  describe('fail-closed: the previous .env stays byte-for-byte in place', () => {
    let before: Buffer;
    let ino: number;
    let token: string;

    const expectIntact = (): void => {
      expect(fs.readFileSync(envPath('acme')).equals(before)).toBe(true);
      expect(fs.statSync(envPath('acme')).ino).toBe(ino);
      expect(fs.readdirSync(path.dirname(envPath('acme')))).toEqual(['.env']);
    };

    async function expectFailure(args: string[]): Promise<Run> {
      const prov = await cli(['provision', ...args]);
      expect(prov.code).toBe(1);
      expect(prov.stderr.trim().split('\n')).toHaveLength(1);
      expectIntact();
      expect((await status('acme')).status).toBe('failed');
      return prov;
    }

    beforeAll(() => {
      before = fs.readFileSync(envPath('acme'));
      ino = fs.statSync(envPath('acme')).ino;
      token = readEnv('acme').CLAWDIE_HIVE_TOKEN as string;
    });

    it('revoked API key (bad_credential)', async () => {
      await tv.mutate({ op: 'revokeClient' });
      try {
        expect((await expectFailure(['acme'])).stderr).toMatch(/acme: failed/);
      } finally {
        await tv.mutate({ op: 'restoreClient' });
      }
    }, 240_000);

    it('vault answering 503', async () => {
      await tv.mutate({ op: 'failNext', count: 1000, status: 503 });
      try {
        await expectFailure(['acme']);
      } finally {
        await tv.mutate({ op: 'clearFaults' });
      }
    }, 240_000);

    it('a malformed item, and the hive down while rotating (one batch, both fail)', async () => {
      const { collections } = await tv.describe();
      const acmeId = collections.find((c) => c.name === 'acme')?.id as string;
      const added = (await tv.mutate({
        op: 'addItem',
        collectionId: acmeId,
        item: { name: 'bad-name', type: 'login', password: 'zzz' },
      })) as { id: string };
      const c01 = fs.existsSync(envPath('c01'));
      await hive.kill('SIGKILL');
      try {
        const prov = await cli(['provision', 'acme', 'c01', '--rotate-token']);
        expect(prov.code).toBe(1);
        expect(prov.stdout).toMatch(/acme: failed: .*item/);
        expect(prov.stdout).toMatch(/c01: failed: hive unreachable/);
        expectIntact();
        expect(fs.existsSync(envPath('c01'))).toBe(c01);
        expect((await status('c01')).status).toBe('failed');
      } finally {
        await hive.restart();
        await tv.mutate({ op: 'deleteItem', id: added.id });
      }
    }, 240_000);

    it('a value the agent would refuse: one line naming the item and the rule, nothing minted', async () => {
      const { items } = await tv.describe();
      const key = items.find((i) => i.name === 'OPENROUTER_API_KEY')?.id as string;
      const long = `sk-or-${'k'.repeat(MAX_SECRET_CHARS)}`;
      await tv.mutate({ op: 'updateItem', id: key, password: long });
      try {
        // Even asked to rotate, the refusal comes before a token is minted: the old one still works.
        const prov = await expectFailure(['acme', '--rotate-token']);
        expect(prov.stderr.trim()).toBe(
          `clawdie-host provision: acme: failed: item ${key}: the agent would refuse OPENROUTER_API_KEY: must be at most ${MAX_SECRET_CHARS} characters`,
        );
        expect(prov.stdout + prov.stderr).not.toContain('kkkk');
        expect(await hiveStatusWith(token)).toBe(404);
      } finally {
        await tv.mutate({ op: 'updateItem', id: key, password: 'sk-or-test-acme-0001' });
      }
    }, 240_000);

    it('converges once the faults are gone, without rewriting the unchanged .env (idempotence)', async () => {
      // The global flags before the command, as git, docker and kubectl take theirs.
      const ok = await cli(['--config', configFile, '--json', 'provision', 'acme'], { config: null });
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ result: 'unchanged', status: 'active' });
      expectIntact();
      expect(readEnv('acme').CLAWDIE_HIVE_TOKEN).toBe(token);
      expect(await hiveStatusWith(token)).toBe(404);
    }, 240_000);
  });

  it(`${CONCURRENT} tenants provisioned by concurrent processes never mix values; rotation`, async () => {
    // bw runs one session at a time per appdata dir (~5 bw processes each), so the tenants are
    // spread over 2 concurrent batch processes rather than one process per tenant. The first
    // batch also rotates acme's token after a change of one of its vault values.
    const { items } = await tv.describe();
    const id = items.find((i) => i.name === 'OPENROUTER_API_KEY')?.id as string;
    await tv.mutate({ op: 'updateItem', id, password: 'sk-or-test-acme-0002' });
    const oldToken = readEnv('acme').CLAWDIE_HIVE_TOKEN as string;
    const groups = [0, 1].map((g) => concurrentTenants.filter((_, i) => i % 2 === g));
    // The tenant without a collection rides along: a clear no-op, exit 0, status unchanged.
    groups[1]?.push('nocoll');
    const runs = await Promise.all([
      cli(['provision', 'acme', ...(groups[0] ?? []), '--rotate-token']),
      cli(['provision', ...(groups[1] ?? [])]),
    ]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(runs[1]?.stdout).toMatch(/nocoll: no collection in the vault; nothing to do \(status pending\)/);
    expect(fs.existsSync(envPath('nocoll'))).toBe(false);
    expect((await status('nocoll')).status).toBe('pending');
    const tokens = new Set<string>();
    for (const t of concurrentTenants) {
      const env = readEnv(t);
      expect(env.CLAWDIE_TENANT).toBe(t);
      expect(env.TENANT_SECRET).toBe(secretOf(t));
      const text = fs.readFileSync(envPath(t), 'utf8');
      for (const other of concurrentTenants) if (other !== t) expect(text).not.toContain(secretOf(other));
      expect(text).not.toContain('sk-or-test-acme');
      tokens.add(env.CLAWDIE_HIVE_TOKEN as string);
    }
    expect(tokens.size).toBe(CONCURRENT);

    const acme = readEnv('acme');
    expect(acme.OPENROUTER_API_KEY).toBe('sk-or-test-acme-0002');
    expect(acme.CLAWDIE_HIVE_TOKEN).not.toBe(oldToken);
    expect(tokens.has(acme.CLAWDIE_HIVE_TOKEN as string)).toBe(false);
    expect(await hiveStatusWith(oldToken)).toBe(401);
    expect(await hiveStatusWith(acme.CLAWDIE_HIVE_TOKEN as string)).toBe(404);
  }, 300_000);

  it('spawn-agent creates the jail, registers, provisions and starts it', async () => {
    const r = await cli(['spawn-agent', 'globex', '--jail', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ tenant: 'globex', provision: 'written', status: 'active' });
    expect(readEnv('globex')).toMatchObject({
      CLAWDIE_TENANT: 'globex',
      DEEPSEEK_API_KEY: 'sk-ds-test-globex-0002',
    });
    const missing = await cli(['spawn-agent', 'nojail']);
    expect(missing.code).toBe(3);
  }, 240_000);

  it('revoke removes the .env, kills the token, and sticks until re-registered', async () => {
    const token = readEnv('globex').CLAWDIE_HIVE_TOKEN as string;
    const r = await cli(['revoke', 'globex']);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(envPath('globex'))).toBe(false);
    expect(await hiveStatusWith(token)).toBe(401);
    expect((await status('globex')).status).toBe('revoked');
    const prov = await cli(['provision', 'globex']);
    expect(prov.code).toBe(4);
    expect(prov.stderr).toMatch(/revoked/);
  }, 240_000);

  it('doctor passes, then names the hive as the thing to fix when it is down', async () => {
    const ok = await cli(['doctor', '--json']);
    expect(ok.code, ok.stdout).toBe(0);
    const passed = JSON.parse(ok.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(passed.checks.map((c) => [c.name, c.ok])).toEqual(
      ['bw', 'credentials', 'hive admin token', 'store', 'jails', 'hive'].map((n) => [n, true]),
    );
    const badHive = writeConfig(path.join(base, 'host-badhive.json'), (c) => {
      (c.hive as Record<string, unknown>).url = 'http://127.0.0.1:9';
    });
    const bad = await cli(['doctor', '--json'], { config: badHive });
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout) as { checks: { name: string; ok: boolean; fix?: string }[] };
    expect(report.checks.find((c) => c.name === 'hive')).toMatchObject({ ok: false });
    expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['hive']);
  }, 240_000);

  it('the bootstrap appears under no jail root and in no output', () => {
    const bootstrap = [hive.adminToken, ...tv.secrets.slice(0, 2)];
    const scan = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) scan(p);
        else if (e.isFile()) {
          const text = fs.readFileSync(p, 'utf8');
          for (const s of bootstrap) expect(text.includes(s), `${p} holds a bootstrap secret`).toBe(false);
          expect(text).not.toMatch(/BW_SESSION|BW_CLIENTSECRET|BW_PASSWORD/);
        }
      }
    };
    scan(jailsRoot);
    // The store holding tenant tokens is root-only, like the locks beside it.
    const store = path.join(base, 'state', 'tenants.db');
    expect(fs.statSync(store).mode & 0o077).toBe(0);
    expect(fs.statSync(path.dirname(store)).mode & 0o077).toBe(0);
    const all = outputs.join('\n');
    for (const s of [...bootstrap, ...tv.secrets]) expect(all.includes(s)).toBe(false);
  });
});

describe('clawdie-host bad input', () => {
  const names = ['../x', '', 'x'.repeat(200), '\u0430cme', 'ACME', '-x', 'a b', 'a/b', 'acme\n', 'ａcme'];
  it('refuses unsafe tenant names with one line and exit 2', async () => {
    // The whole matrix in-process through the real dispatcher (fast), two of them as processes.
    for (const name of names) {
      for (const cmd of ['register-tenant', 'provision', 'status', 'revoke', 'spawn-agent']) {
        const r = await inProcess([cmd, name, '--config', configFile]);
        expect(r.code, `${cmd} ${JSON.stringify(name)}`).toBe(2);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        if (name.length > 1) expect(r.stderr).not.toContain(name.trim());
      }
    }
    for (const name of ['../x', '\u0430cme']) {
      const r = await cli(['provision', name]);
      expect([r.code, r.stderr.trim()]).toEqual([
        2,
        'clawdie-host provision: tenant name must match ^[a-z0-9][a-z0-9-]{0,62}$',
      ]);
    }
  }, 90_000);

  it('global flags go before the command too; a bad one there is a usage error', async () => {
    const after = await cli(['status', 'acme', '--json']);
    const before = await cli([`--config=${configFile}`, '--json', 'status', 'acme'], { config: null });
    expect(before.code, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout)).toEqual(JSON.parse(after.stdout));
    // Given on both sides, the one after the command wins (the missing file is then reported).
    const twice = await cli(['--config', configFile, 'list', '--config', path.join(base, 'nope.json')], {
      config: null,
    });
    expect([twice.code, twice.stderr.trim()]).toEqual([
      3,
      `clawdie-host list: config ${base}/nope.json does not exist`,
    ]);
    const bad = await cli(['--bogus', 'list'], { config: null });
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe(
      'clawdie-host: bad arguments before the command (ERR_PARSE_ARGS_UNKNOWN_OPTION); global flags: --config F, --json',
    );
    const hiveWithConfig = await inProcess(['--config', configFile, 'hive', 'serve']);
    expect([hiveWithConfig.code, hiveWithConfig.stderr]).toEqual([
      2,
      'clawdie-host hive: takes neither --config nor --json\n',
    ]);
  }, 60_000);

  it('missing config, unsafe config, unknown tenant, unknown flag: one line and the right code', async () => {
    const missing = await cli(['list'], { config: path.join(base, 'nope.json') });
    expect([missing.code, missing.stderr.trim().split('\n').length]).toEqual([3, 1]);
    const viaEnv = await cli(['list'], {
      config: null,
      env: { CLAWDIE_HOST_CONFIG: path.join(base, 'nope2.json') },
    });
    expect(viaEnv.code).toBe(3);
    expect(viaEnv.stderr).toContain('nope2.json');
    const loose = writeConfig(path.join(base, 'loose.json'));
    fs.chmodSync(loose, 0o666);
    const l = await cli(['list'], { config: loose });
    expect([l.code, l.stderr.trim().split('\n').length]).toEqual([4, 1]);
    const invalid = writeConfig(path.join(base, 'http.json'), (c) => {
      (c.vault as Record<string, unknown>).server = 'http://127.0.0.1:1';
    });
    const h = await cli(['list'], { config: invalid });
    expect(h.code).toBe(1);
    expect(h.stderr).toMatch(/vault\.server: must be an https:\/\/ URL/);
    const unknown = await cli(['status', 'nobody-here']);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([
      3,
      'clawdie-host status: tenant nobody-here is not registered',
    ]);
    const flag = await cli(['list', '--bogus']);
    expect(flag.code).toBe(2);
  }, 60_000);
});
