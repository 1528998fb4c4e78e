// Failure modes of the bw wrapper with the REAL bw CLI, each steered through the vault test server:
// a revoked API key, a wrong master password, an organization the key cannot see, a server too slow for the timeout
// (the bw process group is killed), and an appdata dir logged in to another server. Each case has
// its own server and appdata dir, so the cases run concurrently (bw is slow, mostly waiting).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestVault, type TestVault } from '../../host-helper/demo/services/test-vault.ts';
import { type BwProcessEvent, openVault, VaultError } from '../../host-helper/vault/index.ts';
import { rejectionOf } from '../support/thrown.ts';

const errors: string[] = [];
const vaults: TestVault[] = [];
const vault = async (): Promise<TestVault> => {
  const tv = await startTestVault();
  vaults.push(tv);
  return tv;
};

/** The VaultError p rejects with; its message is kept for the checks at the end. */
async function vaultError(p: Promise<unknown>): Promise<VaultError> {
  const err = await rejectionOf(VaultError, p);
  errors.push(err.message);
  return err;
}

afterAll(async () => {
  await Promise.all(vaults.map((v) => v.close()));
});

describe.concurrent('vault wrapper failure modes with the real bw', () => {
  it('a revoked API key is bad_credential and nothing stays logged in', async () => {
    const tv = await vault();
    await tv.mutate({ op: 'revokeClient' });
    const events: BwProcessEvent[] = [];
    try {
      const err = await vaultError(
        openVault(tv.config, { onBwProcess: (e) => events.push(e) }).withSession(async () => 1),
      );
      expect(err.code).toBe('bad_credential');
      expect(err.message).toContain('BW_CLIENTSECRET');
      expect(err.kind).toBe('fatal');
    } finally {
      await tv.mutate({ op: 'restoreClient' });
    }
    expect(events.map((e) => e.command)).toEqual(['status', 'config', 'login']);
  }, 120_000);

  it('a wrong master password is unlock_failed, then the session logs out', async () => {
    const tv = await vault();
    const wrong = join(tv.dir, 'bw-wrong.env');
    const good = readFileSync(tv.credentialsFile, 'utf8');
    writeFileSync(wrong, good.replace(/^BW_PASSWORD=.*$/m, 'BW_PASSWORD=not-the-master-password'), {
      mode: 0o600,
    });
    const events: BwProcessEvent[] = [];
    const wrapper = openVault(
      { ...tv.config, credentialsFile: wrong },
      { onBwProcess: (e) => events.push(e) },
    );
    const err = await vaultError(wrapper.withSession(async () => 1));
    expect(err.code).toBe('unlock_failed');
    expect(err.message).toContain('BW_PASSWORD');
    expect(err.message).not.toContain('not-the-master-password');
    expect(events.map((e) => e.command)).toEqual(['status', 'config', 'login', 'serve', 'logout']);
  }, 120_000);

  it('an organization the API key cannot see is organization_missing, not a missing collection', async () => {
    const tv = await vault();
    const wrapper = openVault({ ...tv.config, organization: 'No Such Org' });
    const err = await vaultError(wrapper.withSession((s) => s.findCollection('acme')));
    expect(err.code).toBe('organization_missing');
    expect(err.message).toContain('vault.organization');
  }, 120_000);

  it('a server slower than timeoutMs is timeout, and the bw process group is killed', async () => {
    const tv = await vault();
    await tv.mutate({ op: 'slowNext', count: 1, ms: 300_000, path: '/identity/connect/token' });
    const events: BwProcessEvent[] = [];
    try {
      const wrapper = openVault({ ...tv.config, timeoutMs: 12_000 }, { onBwProcess: (e) => events.push(e) });
      const err = await vaultError(wrapper.withSession(async () => 1));
      expect(err.code).toBe('timeout');
      expect(err.message).toContain('bw login');
    } finally {
      await tv.mutate({ op: 'clearFaults' });
    }
    const login = events.find((e) => e.command === 'login');
    expect(login?.exitCode).toBeNull(); // killed by signal
    expect(existsSync(`/proc/${login?.pid}`)).toBe(false);
  }, 120_000);

  it('an appdata dir logged in to another server is wrong_server, before any credential is sent', async () => {
    const tv = await vault();
    const env = {
      PATH: process.env.PATH ?? '',
      BITWARDENCLI_APPDATA_DIR: tv.appdataDir,
      NODE_EXTRA_CA_CERTS: tv.caCertPath,
      BW_NOINTERACTION: 'true',
    };
    const creds = Object.fromEntries(
      readFileSync(tv.credentialsFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    // a leftover login (a crashed session, or another tool) against this server…
    // (async: the test server runs in this process and must keep answering)
    await promisify(execFile)(process.execPath, [tv.bwBin, 'config', 'server', tv.url], { env });
    await promisify(execFile)(process.execPath, [tv.bwBin, 'login', '--apikey'], {
      env: { ...env, BW_CLIENTID: creds.BW_CLIENTID ?? '', BW_CLIENTSECRET: creds.BW_CLIENTSECRET ?? '' },
    });
    // …while the config names another server: refuse instead of logging out and switching
    const events: BwProcessEvent[] = [];
    const other = openVault(
      { ...tv.config, server: 'https://127.0.0.1:9' },
      { onBwProcess: (e) => events.push(e) },
    );
    const err = await vaultError(other.withSession(async () => 1));
    expect(err.code).toBe('wrong_server');
    expect(err.message).toContain('vault.server');
    expect((await vaultError(other.checkServer())).code).toBe('wrong_server');
    expect(events.map((e) => e.command)).toEqual(['status', 'status']);
  }, 120_000);
});

describe('after the failure cases', () => {
  it('no secret in any error message', () => {
    expect(errors).toHaveLength(6);
    for (const secret of vaults.flatMap((v) => v.secrets)) expect(errors.join('\n')).not.toContain(secret);
  });
});
