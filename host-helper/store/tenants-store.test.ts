// The tenants store on a real SQLite file: created 0600, WAL, migrations idempotent across opens,
// registration idempotent, status transitions with reasons, hive tokens kept apart from rows, and
// a store readable by others refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadStoreModule } from './load.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-store-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('TenantsStore', () => {
  it('creates a private WAL database, migrates once, and keeps rows and tokens apart', async () => {
    const { TenantsStore } = await loadStoreModule();
    const file = path.join(dir, 'sub', 'tenants.db');
    const a = new TenantsStore(file);
    const b = new TenantsStore(file); // a second CLI run: migrations already applied
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(fs.existsSync(`${file}-wal`)).toBe(true);

    const now = '2026-01-01T00:00:00.000Z';
    const acme = {
      tenant: 'acme',
      jail: 'acme',
      collectionName: 'acme',
      collectionId: 'c1',
      shared: false,
      now,
    };
    const first = a.register(acme);
    expect(first.created).toBe(true);
    expect(first.row).toMatchObject({ status: 'pending', collection_id: 'c1', shared: false, reason: null });
    expect(b.register(acme).created).toBe(false);

    a.setStatus('acme', 'failed', now, { reason: 'vault: timeout' });
    expect(b.require('acme')).toMatchObject({ status: 'failed', reason: 'vault: timeout' });
    a.setStatus('acme', 'active', now, { envSha256: 'abc' });
    expect(b.require('acme')).toMatchObject({ status: 'active', reason: null, env_sha256: 'abc' });

    expect(a.hiveToken('acme')).toBeUndefined();
    a.saveHiveToken('acme', 't1', now);
    a.saveHiveToken('acme', 't2', now);
    expect(b.hiveToken('acme')).toBe('t2');
    expect(JSON.stringify(b.list())).not.toContain('t2');
    b.dropHiveToken('acme');
    expect(a.hiveToken('acme')).toBeUndefined();
    expect(() => a.require('nope')).toThrow(/not registered/);
    a.probeWritable();
    a.close();
    b.close();
  });

  it('refuses a store file that others can read', async () => {
    const { TenantsStore } = await loadStoreModule();
    const file = path.join(dir, 'loose.db');
    fs.writeFileSync(file, '', { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    expect(() => new TenantsStore(file)).toThrow(/must be mode 0600/);
  });
});
