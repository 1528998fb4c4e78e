// The vault config schema and the credentials-file reader, on real files with real modes.
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseVaultConfig, readCredentials } from '../../host-helper/vault/config.ts';
import { VaultError } from '../../host-helper/vault/errors.ts';
import { thrownBy } from '../support/thrown.ts';

const ID = 'user.aaee4b40-5884-4220-a494-4512b841fe88';
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vault-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const refusal = (fn: () => unknown): VaultError => thrownBy(VaultError, fn);

describe('readCredentials', () => {
  it('reads a 0600 file and refuses group/other access, links and missing keys without echoing values', () => {
    const file = join(dir, 'bw.env');
    writeFileSync(file, `BW_CLIENTID=${ID}\nBW_CLIENTSECRET=s3cret-value\nBW_PASSWORD=pw-value-9\n`, {
      mode: 0o600,
    });
    expect(readCredentials(file)).toEqual({
      BW_CLIENTID: ID,
      BW_CLIENTSECRET: 's3cret-value',
      BW_PASSWORD: 'pw-value-9',
    });

    writeFileSync(join(dir, 'open.env'), 'BW_PASSWORD=pw-value-9\n', { mode: 0o644 });
    const open = refusal(() => readCredentials(join(dir, 'open.env')));
    expect([open.code, open.message.includes('chmod 600')]).toEqual(['bad_credential', true]);

    symlinkSync(file, join(dir, 'link.env'));
    expect(refusal(() => readCredentials(join(dir, 'link.env'))).code).toBe('bad_credential');

    writeFileSync(join(dir, 'partial.env'), `BW_CLIENTID=${ID}\nBW_CLIENTSECRET=s3cret-value\n`, {
      mode: 0o600,
    });
    const partial = refusal(() => readCredentials(join(dir, 'partial.env')));
    expect(partial.message).toContain('BW_PASSWORD');
    expect(partial.message).not.toContain('s3cret-value');

    writeFileSync(
      join(dir, 'org.env'),
      'BW_CLIENTID=organization.x\nBW_CLIENTSECRET=s3cret-value\nBW_PASSWORD=p\n',
      {
        mode: 0o600,
      },
    );
    const org = refusal(() => readCredentials(join(dir, 'org.env')));
    expect(org.message).toContain('BW_CLIENTID');
    expect(org.message).not.toContain('s3cret-value');
  });
});

describe('parseVaultConfig', () => {
  const base = {
    server: 'https://vault.example.org/',
    organization: 'Clawdie',
    credentialsFile: '/etc/bw.env',
    appdataDir: '/var/db/bw',
  };
  it('defaults and normalizes, and names the failing field', () => {
    expect(parseVaultConfig(base)).toMatchObject({
      server: 'https://vault.example.org',
      bwBin: 'bw',
      timeoutMs: 60_000,
    });
    expect(
      refusal(() => parseVaultConfig({ ...base, server: 'http://vault.example.org' })).message,
    ).toContain('server');
    expect(refusal(() => parseVaultConfig({ ...base, appdataDir: 'relative' })).message).toContain(
      'appdataDir',
    );
  });
});
