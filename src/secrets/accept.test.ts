// Env file acceptance on real files with real modes and owners (CI runs as root, so chown works).
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkEnvFile } from './accept.ts';

const TEXT =
  'CLAWDIE_TENANT=acme\nCLAWDIE_HIVE_URL=http://127.0.0.1:1\nCLAWDIE_HIVE_TOKEN=secret-tok\nDEEPSEEK_API_KEY=secret-key\n';
const uid = process.getuid!();
let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'clawdie-accept-'));
  file = path.join(dir, '.env');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('checkEnvFile', () => {
  it('accepts a 0600 regular file of the agent uid with valid keys', async () => {
    writeFileSync(file, TEXT, { mode: 0o600 });
    const v = await checkEnvFile(file, uid);
    expect(v.status).toBe('valid');
    if (v.status === 'valid') expect(v.fingerprint).toMatch(/^[a-f0-9]{64}$/);
  });

  it('refuses each bad file with a reason that names the problem and no value', async () => {
    const cases: Array<[string, () => void, string]> = [
      ['missing', () => undefined, 'does not exist yet'],
      [
        'symlink',
        () => {
          writeFileSync(path.join(dir, 'real'), TEXT, { mode: 0o600 });
          symlinkSync(path.join(dir, 'real'), file);
        },
        'is a symbolic link',
      ],
      ['0644', () => writeFileSync(file, TEXT, { mode: 0o644 }), 'has mode 0644; it must be 0600'],
      ['directory', () => mkdirSync(file), 'is not a regular file'],
      [
        'malformed',
        () => writeFileSync(file, 'this is not an env file', { mode: 0o600 }),
        'is invalid: holds no KEY=value lines',
      ],
      [
        'missing keys',
        () => writeFileSync(file, 'CLAWDIE_TENANT=acme\n', { mode: 0o600 }),
        'is invalid: CLAWDIE_HIVE_URL',
      ],
    ];
    for (const [name, make, want] of cases) {
      rmSync(file, { recursive: true, force: true });
      make();
      const v = await checkEnvFile(file, uid);
      expect(v.status, name).toBe(name === 'missing' ? 'missing' : 'refused');
      if (v.status !== 'valid') {
        expect(v.reason, name).toContain(want);
        expect(v.reason).not.toMatch(/secret-/);
      }
    }
  });

  it.runIf(uid === 0)('refuses a file owned by another uid', async () => {
    writeFileSync(file, TEXT, { mode: 0o600 });
    chownSync(file, 4242, 4242);
    chmodSync(file, 0o600);
    const v = await checkEnvFile(file, uid);
    expect(v).toEqual({
      status: 'refused',
      reason: `is owned by uid 4242; it must be owned by the agent's uid ${uid}`,
    });
  });
});
