// host.json's hive settings (DESIGN §6, issue 19): the same transport rule as the agent's `.env`
// (https anywhere; plain http only on loopback or with privateNetwork; a pin only with https).
import { describe, expect, it } from 'vitest';
import { HostConfig } from '../../host-helper/config/host-config.ts';
import { formatProblem } from '../../src/protocol/format-issue.ts';

const base = {
  store: '/var/db/clawdie-host/tenants.db',
  vault: {
    server: 'https://vault.example.org',
    organization: 'Clawdie',
    credentialsFile: '/usr/local/etc/clawdie/bw.env',
    appdataDir: '/var/db/clawdie-host/bw',
  },
  jails: { backend: 'dir', root: '/jails' },
};
const PIN = `sha256/${'B'.repeat(43)}=`;
const problem = (hive: Record<string, unknown>): string | null => {
  const r = HostConfig.safeParse({ ...base, hive: { adminTokenFile: '/etc/hive.token', ...hive } });
  return r.success ? null : formatProblem(r.error);
};

describe('host.json hive settings', () => {
  it('takes https with a CA file or a pin, and plain http on loopback or a declared private network', () => {
    expect(problem({ url: 'https://hive.example.org', caFile: '/etc/hive-ca.pem', pin: PIN })).toBeNull();
    expect(problem({ url: 'http://127.0.0.1:8080' })).toBeNull();
    expect(problem({ url: 'http://10.1.2.3:8080', privateNetwork: true })).toBeNull();
  });

  it('refuses plain http off loopback, a pin beside http, and a malformed pin, naming the field', () => {
    expect(problem({ url: 'http://10.1.2.3:8080' })).toMatch(/^hive\.url: must be https:\/\/ unless/);
    expect(problem({ url: 'http://127.0.0.1:8080', pin: PIN })).toMatch(
      /^hive\.pin: is set, so url must be https/,
    );
    expect(problem({ url: 'https://hive.example.org', pin: 'sha256/nope' })).toMatch(/^hive\.pin: must be/);
    expect(problem({ url: 'https://hive.example.org', caFile: 'relative.pem' })).toMatch(/^hive\.caFile:/);
  });
});
