// The bw wrapper driving the REAL bw CLI against the vault test server: the happy path (two
// tenants under one unlock), collection missing/ambiguous, malformed items, rotation seen on the
// next session (after a session killed hard, whose unlocked bw serve must be reaped), a deleted
// collection, setting the server, a bad bw path and an unsafe credentials file. bw costs seconds
// per process, so assertions are batched into two sessions.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestVault, type TestVault } from '../../host-helper/demo/services/test-vault.ts';
import { type BwProcessEvent, openVault, VaultError } from '../../host-helper/vault/index.ts';
import { createLogger } from '../../src/log.ts';
import { rejectionOf } from '../support/thrown.ts';

const CLIENT = join(import.meta.dirname, '..', 'fixtures', 'vault-client.ts');
let tv: TestVault;
const logLines: string[] = [];
const logger = createLogger({
  name: 'vault-test',
  level: 'debug',
  destination: new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  }),
});
const errors: string[] = [];

/** The VaultError p rejects with; its message is kept for the checks at the end. */
async function vaultError(p: Promise<unknown>): Promise<VaultError> {
  const err = await rejectionOf(VaultError, p);
  errors.push(err.message);
  return err;
}

/** Runs a session in another process, kills it (SIGKILL) once unlocked; returns its serve's pid. */
async function killedSession(): Promise<number> {
  const child = spawn(process.execPath, [CLIENT, JSON.stringify(tv.config), 'acme'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, VAULT_CLIENT_HOLD_MS: '120000' },
  });
  const exited = new Promise((r) => child.once('close', r));
  let out = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString('utf8');
  });
  while (!out.includes('"event":"vault.unlocked"')) {
    if (child.exitCode !== null) throw new Error('client exited before unlocking');
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = Number(readFileSync(join(tv.appdataDir, 'clawdie-serve.pid'), 'utf8'));
  child.kill('SIGKILL');
  await exited;
  return pid;
}

beforeAll(async () => {
  tv = await startTestVault();
});
afterAll(async () => {
  await tv?.close();
});

describe('vault wrapper with the real bw', () => {
  it('fetches two tenants under one unlock; errors for missing, ambiguous, malformed; a killed session is reaped; rotation seen next', async () => {
    const ids = await tv.describe();
    const org = ids.organizations[0]?.id ?? '';
    const acme = ids.collections.find((c) => c.name === 'acme')?.id ?? '';
    // two collections named "twin", and a collection whose items break the mapping in three ways
    await tv.mutate({ op: 'addCollection', organizationId: org, name: 'twin' });
    await tv.mutate({ op: 'addCollection', organizationId: org, name: 'twin' });
    const badCol = (
      (await tv.mutate({ op: 'addCollection', organizationId: org, name: 'bad' })) as { id: string }
    ).id;
    const dupA = (
      (await tv.mutate({
        op: 'addItem',
        collectionId: badCol,
        item: { name: 'SAME', password: 'dup-secret-1' },
      })) as { id: string }
    ).id;
    const dupB = (
      (await tv.mutate({
        op: 'addItem',
        collectionId: badCol,
        item: { name: 'SAME', password: 'dup-secret-2' },
      })) as { id: string }
    ).id;
    const lowerCol = (
      (await tv.mutate({ op: 'addCollection', organizationId: org, name: 'lower' })) as { id: string }
    ).id;
    const lower = (
      (await tv.mutate({
        op: 'addItem',
        collectionId: lowerCol,
        item: { name: 'not-an-env-name', password: 'lower-secret' },
      })) as { id: string }
    ).id;
    const multiCol = (
      (await tv.mutate({ op: 'addCollection', organizationId: org, name: 'multi' })) as { id: string }
    ).id;
    const multi = (
      (await tv.mutate({
        op: 'addItem',
        collectionId: multiCol,
        item: { name: 'PEM', type: 'note', notes: 'multi-line\nsecret-note' },
      })) as { id: string }
    ).id;

    const events: BwProcessEvent[] = [];
    const vault = openVault(tv.config, { logger, onBwProcess: (e) => events.push(e) });
    // a fresh appdata dir: checkServer sets the server (logged out, the dir is ours)
    await vault.checkServer();
    expect(events.map((e) => e.command)).toEqual(['status', 'config']);
    events.length = 0;
    const first = await vault.withSession(async (s) => {
      const a = await s.findCollection('acme');
      const g = await s.findCollection('globex');
      expect((await vaultError(s.findCollection('nope'))).code).toBe('collection_missing');
      const amb = await vaultError(s.findCollection('twin'));
      expect(amb.code).toBe('collection_ambiguous');
      const dup = await vaultError(s.collectionEnv(badCol));
      expect(dup.code).toBe('item_malformed');
      expect(dup.message).toContain(dupB);
      expect(dup.message).toContain(dupA);
      const bad = await vaultError(s.collectionEnv(lowerCol));
      expect([bad.code, bad.message.includes(lower)]).toEqual(['item_malformed', true]);
      const ml = await vaultError(s.collectionEnv(multiCol));
      expect([ml.code, ml.message.includes(multi)]).toEqual(['item_malformed', true]);
      return { a, acme: await s.collectionEnv(a.id), globex: await s.collectionEnv(g.id) };
    });
    expect(first.a).toEqual({ id: acme, name: 'acme', organizationId: org });
    expect(first.acme.map((e) => [e.name, e.value])).toEqual([
      ['CLAWDIE_MODEL', 'openrouter/test-model'],
      ['EXTRA', 'extra-value'],
      ['EXTRA_FLAG', 'on'],
      ['OPENROUTER_API_KEY', 'sk-or-test-acme-0001'],
    ]);
    expect(first.globex.map((e) => [e.name, e.value])).toEqual([
      ['DEEPSEEK_API_KEY', 'sk-ds-test-globex-0002'],
    ]);
    // one login and one unlock for both tenants
    expect(events.map((e) => e.command)).toEqual(['status', 'login', 'serve', 'logout']);

    // rotation and a deleted collection are seen by the next session
    const key = ids.items.find((i) => i.name === 'OPENROUTER_API_KEY')?.id ?? '';
    await tv.mutate({ op: 'updateItem', id: key, password: 'sk-or-rotated-0003' });
    const globex = ids.collections.find((c) => c.name === 'globex')?.id ?? '';
    await tv.mutate({ op: 'deleteCollection', id: globex });
    // a session killed hard (SIGKILL while unlocked) leaves its bw serve running in its own process
    // group, and a login behind; the next session reaps the serve, logs out, and starts clean
    const orphan = await killedSession();
    expect(existsSync(`/proc/${orphan}`)).toBe(true);
    events.length = 0;
    // the killed holder's lock died with it: a 2 s wait bound (below the old 15 s stale time) is enough
    const recovering = openVault(
      { ...tv.config, lockWaitMs: 2000 },
      { logger, onBwProcess: (e) => events.push(e) },
    );
    const second = await recovering.withSession(async (s) => {
      expect((await vaultError(s.collectionEnv(globex))).code).toBe('collection_missing');
      return s.collectionEnv(acme);
    });
    expect(existsSync(`/proc/${orphan}`)).toBe(false);
    expect(second.find((e) => e.name === 'OPENROUTER_API_KEY')?.value).toBe('sk-or-rotated-0003');
    expect(events.map((e) => e.command)).toEqual(['status', 'logout', 'login', 'serve', 'logout']);
  }, 240_000);

  it('maps a missing bw to not_installed and an unsafe credentials file to bad_credential', async () => {
    const missing = openVault({ ...tv.config, bwBin: '/nonexistent/bw' });
    expect((await vaultError(missing.withSession(async () => 1))).code).toBe('not_installed');
    chmodSync(tv.credentialsFile, 0o640);
    try {
      const err = await vaultError(openVault(tv.config).withSession(async () => 1));
      expect(err.code).toBe('bad_credential');
      expect(err.message).toContain('chmod 600');
    } finally {
      chmodSync(tv.credentialsFile, 0o600);
    }
  }, 60_000);

  it('leaks no secret into logs or error messages', () => {
    const text = [...logLines, ...errors].join('\n');
    expect(logLines.length).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThan(5);
    for (const secret of [
      ...tv.secrets,
      'dup-secret-1',
      'dup-secret-2',
      'lower-secret',
      'secret-note',
      'sk-or-rotated-0003',
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});
