// The linux backend for real (root only): a jail root with a few real binaries, started in new
// mount/pid/net/uts/ipc namespaces with `unshare --root`, written through `nsenter` as the jail
// user, then stopped and written by the host-side safe writer. Also checks that no jail process
// ever sees the secret in its argv or environment (it crosses on stdin only).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverEnv, removeEnv } from '../../host-helper/envfile/deliver.ts';
import { defaultJailUid, linuxBackend } from '../../host-helper/jails/linux.ts';

const CAN_RUN = process.getuid?.() === 0 && process.platform === 'linux' && fs.existsSync('/usr/bin/unshare');
const SECRET = 'linux-jail-secret-value-9f8e7d';

let base: string;
let jails: string;

/** Copies a host binary and the libraries ldd names into the jail root (same paths). */
function install(root: string, bin: string, as = bin): void {
  const dest = path.join(root, as);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(bin, dest);
  fs.chmodSync(dest, 0o755);
  const ldd = execFileSync('ldd', [bin], { encoding: 'utf8' });
  for (const m of ldd.matchAll(/(\/[^\s]+\.so[^\s]*)/g)) {
    const lib = m[1] as string;
    const libDest = path.join(root, lib);
    if (fs.existsSync(libDest)) continue;
    fs.mkdirSync(path.dirname(libDest), { recursive: true });
    fs.copyFileSync(fs.realpathSync(lib), libDest);
  }
}

beforeAll(() => {
  if (!CAN_RUN) return;
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-linux-'));
  jails = path.join(base, 'jails');
  fs.mkdirSync(jails);
});

afterAll(async () => {
  if (!CAN_RUN) return;
  await linuxBackend({ root: jails, user: 'clawdie' })
    .stop('lane')
    .catch(() => undefined);
  fs.rmSync(base, { recursive: true, force: true });
});

describe.skipIf(!CAN_RUN)('linux backend (unshare + nsenter, as root)', () => {
  it('creates, starts, writes through the jail as its user, stops, writes from the host', async () => {
    const b = linuxBackend({ root: jails, user: 'clawdie', init: '/sbin/init' });
    const umask = process.umask(0o077); // as clawdie-host runs
    try {
      await b.create('lane');
    } finally {
      process.umask(umask);
    }
    const root = path.join(jails, 'lane', 'root');
    expect(fs.statSync(path.join(root, 'etc')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(root, 'etc/passwd')).mode & 0o777).toBe(0o644);
    expect(fs.statSync(path.join(root, 'home/clawdie')).mode & 0o777).toBe(0o700);
    // setpriv: the backend enters a jail through the jail's own setpriv (reduced bounding set).
    for (const tool of [
      '/bin/sh',
      '/bin/cat',
      '/bin/chmod',
      '/bin/mv',
      '/bin/rm',
      '/bin/sleep',
      '/usr/bin/setpriv',
    ])
      install(root, fs.realpathSync(tool), tool);
    fs.mkdirSync(path.join(root, 'sbin'), { recursive: true });
    fs.writeFileSync(path.join(root, 'sbin/init'), '#!/bin/sh\nexec /bin/sleep 100000\n', { mode: 0o755 });

    const uid = defaultJailUid('lane');
    expect(await b.userIds('lane', 'clawdie')).toEqual({ name: 'clawdie', uid, gid: uid });
    expect(await b.isRunning('lane')).toBe(false);
    await b.start('lane');
    expect(await b.isRunning('lane')).toBe(true);

    const content = `CLAWDIE_TENANT=lane\nCLAWDIE_HIVE_TOKEN=${SECRET}\n`;
    expect(await deliverEnv(b, 'lane', 'clawdie', content)).toMatchObject({ changed: true, via: 'jail' });
    const envFile = path.join(root, 'home', 'clawdie', '.env');
    const st = fs.lstatSync(envFile);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([uid, uid, 0o600]);
    expect(fs.readFileSync(envFile, 'utf8')).toBe(content);

    // No process whose root is the jail holds the secret in argv or environment.
    let jailed = 0;
    for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/root`) !== root) continue;
        jailed += 1;
        for (const f of ['cmdline', 'environ'])
          expect(fs.readFileSync(`/proc/${pid}/${f}`, 'utf8')).not.toContain(SECRET);
      } catch {
        // exited meanwhile
      }
    }
    expect(jailed).toBeGreaterThan(0);

    // A link planted in the running jail is the jail's own business: the write stays inside.
    fs.rmSync(envFile);
    fs.symlinkSync('/etc/hostname', envFile);
    const hostname = fs.readFileSync('/etc/hostname', 'utf8');
    expect(await deliverEnv(b, 'lane', 'clawdie', content)).toMatchObject({ via: 'jail' });
    expect(fs.lstatSync(envFile).isFile()).toBe(true);
    expect(fs.readFileSync('/etc/hostname', 'utf8')).toBe(hostname);

    await removeEnv(b, 'lane', 'clawdie');
    expect(fs.existsSync(envFile)).toBe(false);

    await b.stop('lane');
    expect(await b.isRunning('lane')).toBe(false);
    expect(await deliverEnv(b, 'lane', 'clawdie', content)).toMatchObject({ changed: true, via: 'host' });
    expect(fs.lstatSync(envFile).uid).toBe(uid);
  }, 60_000);

  it('refuses a jail whose passwd maps the user to root', async () => {
    const b = linuxBackend({ root: jails, user: 'clawdie' });
    await b.create('rootish');
    fs.writeFileSync(
      path.join(jails, 'rootish', 'root', 'etc', 'passwd'),
      'clawdie:x:0:0::/home/clawdie:/bin/sh\n',
    );
    await expect(deliverEnv(b, 'rootish', 'clawdie', 'A=1\n')).rejects.toThrow(/maps to root; refused/);
  });
});
