// The bastille backend against fake bastille/jls/jexec on PATH (test/fixtures/fake-bastille) that
// record every call, and the parsers against the recorded output formats. Real files, modes and
// owners (CI runs as root): the .env written through `jexec -U clawdie` ends up owned by the jail
// user from the jail's passwd; a stopped jail is written by the host-side safe writer instead.
// The body (DESIGN §11): the real Bastillefile, applied by the fake the way template.sh applies its
// MOUNT lines, mounts the store's current version read-only at the body mount (the jail's fstab
// says so); `switchBody` on a running jail drains the agent (service stop), swaps the mount and
// starts it again, in that order; on a stopped jail it rewrites the fstab line and calls nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_MOUNT } from '../../host-helper/body/layout.ts';
import { deliverEnv, IN_JAIL_WRITE_SCRIPT, removeEnv } from '../../host-helper/envfile/deliver.ts';
import { bastilleBackend, parseJls } from '../../host-helper/jails/bastille.ts';
import { jailsDirFrom, parseBastilleConf } from '../../host-helper/jails/bastille-conf.ts';
import { mountedAt, parseFstab, withMount } from '../../host-helper/jails/bastille-fstab.ts';
import { parsePasswdEntry } from '../../host-helper/jails/passwd.ts';

const FAKES = path.resolve(import.meta.dirname, '../fixtures/fake-bastille');
const recorded = (name: string): string => fs.readFileSync(path.join(FAKES, 'recorded', name), 'utf8');
const IS_ROOT = process.getuid?.() === 0;

let base: string;
let jailsDir: string;
let confFile: string;
let logFile: string;
const savedEnv = { ...process.env };

const calls = (): string[][] =>
  fs.existsSync(logFile)
    ? fs
        .readFileSync(logFile, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t'))
    : [];

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-bastille-'));
  fs.chmodSync(base, 0o755); // the jail user (fake jexec drops to it) must traverse to the jail
  jailsDir = path.join(base, 'bastille', 'jails');
  fs.mkdirSync(jailsDir, { recursive: true });
  confFile = path.join(base, 'bastille.conf');
  fs.writeFileSync(
    confFile,
    recorded('bastille.conf.sample').replace('"/usr/local/bastille"', `"${base}/bastille"`),
  );
  logFile = path.join(base, 'calls.log');
  // Wrappers carry the fakes' settings: the host gives jail tools PATH and LANG only.
  const wrappers = path.join(base, 'bin');
  fs.mkdirSync(wrappers);
  for (const tool of ['bastille', 'jls', 'jexec']) {
    fs.writeFileSync(
      path.join(wrappers, tool),
      [
        '#!/bin/sh',
        `export FAKE_BASTILLE_LOG='${logFile}' FAKE_BASTILLE_STATE='${path.join(base, 'state')}'`,
        `export FAKE_BASTILLE_JAILSDIR='${jailsDir}'`,
        `[ -f '${base}/uid' ] && export FAKE_JAIL_UID="$(cat '${base}/uid')"`,
        `exec '${path.join(FAKES, 'bin', tool)}' "$@"`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
  }
  process.env.PATH = `${wrappers}:${process.env.PATH}`;
});

afterAll(() => {
  process.env = savedEnv;
  fs.rmSync(base, { recursive: true, force: true });
});

describe('bastille parsers (recorded formats)', () => {
  it('reads bastille_jailsdir from the sample bastille.conf, with its bastille_prefix reference', () => {
    expect(jailsDirFrom(parseBastilleConf(recorded('bastille.conf.sample')))).toBe(
      '/usr/local/bastille/jails',
    );
    expect(jailsDirFrom(parseBastilleConf('bastille_prefix=/data/b\n'))).toBe('/data/b/jails');
    expect(jailsDirFrom(parseBastilleConf("bastille_jailsdir='/j'  ## comment\n"))).toBe('/j');
    expect(() => parseBastilleConf(`bastille_jailsdir="$${'{'}nope}/jails"\n`)).toThrow(
      /nope is referenced but not set/,
    );
  });

  it('accepts jls output only for our jail at its expected root', () => {
    const root = '/usr/local/bastille/jails/alpha/root';
    expect(parseJls(recorded('jls-running.txt'), 'alpha', root)).toBe(true);
    expect(parseJls(recorded('jls-running.txt'), 'beta', root)).toBe(false);
    expect(parseJls(recorded('jls-running.txt'), 'alpha', '/elsewhere/alpha/root')).toBe(false);
    expect(parseJls(recorded('jls-default-table.txt'), 'alpha', root)).toBe(false);
    expect(parseJls('', 'alpha', root)).toBe(false);
  });

  it('reads the body line of a jail fstab as Bastille writes it, and rewrites only that line', () => {
    const text = recorded('fstab-body.txt');
    const point = `/usr/local/bastille/jails/alpha/root${BODY_MOUNT}`;
    expect(mountedAt(text, point)).toBe('/usr/local/clawdie/bodies/0.1.0-0123456789ab');
    expect(parseFstab(text)[1]).toMatchObject({ host: '/data/shared files', options: 'rw' });
    // Read-write or missing: not a body.
    expect(mountedAt(text, '/usr/local/bastille/jails/alpha/root/mnt/shared files')).toBeUndefined();
    expect(mountedAt('', point)).toBeUndefined();
    const next = withMount(text, '/usr/local/clawdie/bodies/0.2.0-ba9876543210', point);
    expect(mountedAt(next, point)).toBe('/usr/local/clawdie/bodies/0.2.0-ba9876543210');
    expect(next.split('\n').filter(Boolean)).toHaveLength(2);
    expect(next).toContain('/data/shared\\040files ');
  });

  it('parses passwd strictly and refuses root, nobody and duplicates', () => {
    const ok =
      'root:*:0:0:Charlie &:/root:/bin/sh\nclawdie:*:1789:1789:Clawdie agent:/home/clawdie:/usr/sbin/nologin\n';
    expect(parsePasswdEntry(ok, 'clawdie')).toEqual({ name: 'clawdie', uid: 1789, gid: 1789 });
    expect(() => parsePasswdEntry('clawdie:*:0:0::/home/clawdie:/bin/sh\n', 'clawdie')).toThrow(/root/);
    expect(() => parsePasswdEntry('clawdie:*:65534:65534::/:/bin/sh\n', 'clawdie')).toThrow(/nobody/);
    expect(() => parsePasswdEntry(`${ok}clawdie:*:1790:1790::/:/bin/sh\n`, 'clawdie')).toThrow(
      /more than once/,
    );
    expect(() => parsePasswdEntry('clawdie:*:17x9:1789::/:/bin/sh\n', 'clawdie')).toThrow(/plain numbers/);
    expect(() => parsePasswdEntry('clawdie:*:1789:1789\n', 'clawdie')).toThrow(/7 fields/);
    expect(() => parsePasswdEntry(ok, 'other')).toThrow(/no user other/);
  });
});

describe.skipIf(!IS_ROOT)('bastille backend with fake bastille/jls/jexec', () => {
  const content = 'CLAWDIE_TENANT=alpha\nCLAWDIE_HIVE_TOKEN=tok-secret-value-123456\n';

  it('refuses a jails.root that differs from bastille_jailsdir', () => {
    expect(() => bastilleBackend({ conf: confFile, root: '/usr/local/bastille/jails' })).toThrow(
      /differs from bastille_jailsdir/,
    );
  });

  it('creates from the template, writes through jexec as the jail user, and verifies in place', async () => {
    const b = bastilleBackend({
      conf: confFile,
      root: jailsDir,
      template: '/opt/image-overlay',
      release: '14.3-RELEASE',
      ip: '10.17.89.50',
    });
    expect(await b.exists('alpha')).toBe(false);
    await b.create('alpha');
    expect(await b.exists('alpha')).toBe(true);
    expect(await b.isRunning('alpha')).toBe(true);
    expect(await b.userIds('alpha', 'clawdie')).toEqual({ name: 'clawdie', uid: 1789, gid: 1789 });

    const result = await deliverEnv(b, 'alpha', 'clawdie', content);
    expect(result).toMatchObject({ changed: true, via: 'jail' });
    const envFile = path.join(jailsDir, 'alpha', 'root', 'home', 'clawdie', '.env');
    const st = fs.lstatSync(envFile);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([1789, 1789, 0o600]);
    expect(fs.readFileSync(envFile, 'utf8')).toBe(content);

    const log = calls();
    expect(log.map((c) => c.slice(0, 5).join(' '))).toEqual(
      expect.arrayContaining([
        'bastille create alpha 14.3-RELEASE 10.17.89.50',
        'bastille template alpha /opt/image-overlay ENV[LANG PATH PWD ]',
      ]),
    );
    const jexec = log.find((c) => c[0] === 'jexec');
    expect(jexec?.slice(0, 9)).toEqual([
      'jexec',
      '-l',
      '-U',
      'clawdie',
      'alpha',
      '/bin/sh',
      '-c',
      IN_JAIL_WRITE_SCRIPT.replaceAll('\n', '\\n'),
      'clawdie-host',
    ]);
    // The secret goes over stdin only: never in any argv, and jexec gets no environment of ours.
    expect(fs.readFileSync(logFile, 'utf8')).not.toContain('tok-secret-value');
    expect(jexec?.at(-1)).toBe('ENV[LANG PATH PWD ]');

    const again = await deliverEnv(b, 'alpha', 'clawdie', content);
    expect(again).toMatchObject({ changed: false, via: 'unchanged' });
  });

  it('writes a stopped jail from the host side, without jexec', async () => {
    const b = bastilleBackend({ conf: confFile, root: jailsDir });
    await b.stop('alpha');
    expect(await b.isRunning('alpha')).toBe(false);
    const before = calls().filter((c) => c[0] === 'jexec').length;
    const result = await deliverEnv(b, 'alpha', 'clawdie', `${content}MORE=1\n`);
    expect(result).toMatchObject({ changed: true, via: 'host' });
    expect(calls().filter((c) => c[0] === 'jexec').length).toBe(before);
    const st = fs.lstatSync(path.join(jailsDir, 'alpha', 'root', 'home', 'clawdie', '.env'));
    expect([st.uid, st.mode & 0o777]).toEqual([1789, 0o600]);
    await b.start('alpha');
    await removeEnv(b, 'alpha', 'clawdie');
    expect(fs.existsSync(path.join(jailsDir, 'alpha', 'root', 'home', 'clawdie', '.env'))).toBe(false);
  });

  it('refuses a jail whose user is root or whose passwd is a link out of the jail', async () => {
    const b = bastilleBackend({ conf: confFile, root: jailsDir, release: '14.3-RELEASE', ip: '10.17.89.51' });
    fs.writeFileSync(path.join(base, 'uid'), '0');
    try {
      await b.create('beta');
    } finally {
      fs.rmSync(path.join(base, 'uid'));
    }
    await expect(deliverEnv(b, 'beta', 'clawdie', content)).rejects.toThrow(/maps to root; refused/);
    const passwd = path.join(jailsDir, 'beta', 'root', 'etc', 'passwd');
    const outside = path.join(base, 'outside-passwd');
    fs.writeFileSync(outside, 'clawdie:*:1789:1789::/home/clawdie:/bin/sh\n');
    fs.rmSync(passwd);
    fs.symlinkSync(outside, passwd);
    await expect(deliverEnv(b, 'beta', 'clawdie', content)).rejects.toThrow(
      /refused: .*passwd cannot be opened without following a link/,
    );
    expect(fs.existsSync(path.join(jailsDir, 'beta', 'root', 'home', 'clawdie', '.env'))).toBe(false);
  });
});

describe.skipIf(!IS_ROOT)('bastille jails on a body (fake bastille, the real Bastillefile)', () => {
  const V1 = '0.1.0-0123456789ab';
  const V2 = '0.2.0-ba9876543210';
  let bodies: string;
  let template: string;
  const fstab = (jail: string): string => fs.readFileSync(path.join(jailsDir, jail, 'fstab'), 'utf8');
  const since = (n: number): string[] =>
    calls()
      .slice(n)
      .map((c) => c.filter((a) => !a.startsWith('ENV[')).join(' '));

  beforeAll(() => {
    bodies = path.join(base, 'bodies');
    for (const v of [V1, V2]) fs.mkdirSync(path.join(bodies, v), { recursive: true });
    fs.symlinkSync(V1, path.join(bodies, 'current'));
    template = path.join(base, 'image-overlay');
    fs.mkdirSync(template);
    fs.copyFileSync(
      path.resolve(import.meta.dirname, '../../image/bastille/clawdie-agent/Bastillefile'),
      path.join(template, 'Bastillefile'),
    );
  });

  const backend = () =>
    bastilleBackend({
      conf: confFile,
      root: jailsDir,
      template,
      release: '14.3-RELEASE',
      ip: '10.17.89.60',
      bodies,
    });

  it('creates the jail with the current body mounted read-only at the body mount', async () => {
    const n = calls().length;
    await backend().create('gamma');
    expect(since(n)).toEqual([
      'bastille create gamma 14.3-RELEASE 10.17.89.60',
      `bastille template gamma ${template} --arg CLAWDIE_BODY=${bodies}/${V1}`,
      // The Bastillefile's MOUNT line, with the arg: what is mounted where.
      `bastille mount gamma ${bodies}/${V1} ${BODY_MOUNT} nullfs ro 0 0`,
    ]);
    expect(fstab('gamma')).toBe(`${bodies}/${V1} ${jailsDir}/gamma/root${BODY_MOUNT} nullfs ro 0 0\n`);
    expect(await backend().bodyOf('gamma')).toBe(V1);
    expect(await backend().list()).toContain('gamma');
  });

  it('re-applying the template does not switch a mounted body; switchBody drains, swaps, restarts', async () => {
    const b = backend();
    await b.create('delta').catch(() => undefined);
    fs.mkdirSync(path.join(base, 'state', 'service'), { recursive: true });
    fs.writeFileSync(path.join(base, 'state', 'service', 'delta'), ''); // the agent runs
    const n = calls().length;
    await runTemplateAgain('delta', V2);
    expect(await b.bodyOf('delta')).toBe(V1);
    await b.switchBody('delta', V2);
    expect(fs.existsSync(path.join(base, 'state', 'service', 'delta'))).toBe(true);
    expect(since(n).filter((c) => !c.startsWith('jls '))).toEqual([
      'bastille start delta',
      `bastille template delta ${template} --arg CLAWDIE_BODY=${bodies}/${V2}`,
      // Bastille's mount leaves the mount point alone: the template switched nothing …
      `bastille mount delta ${bodies}/${V2} ${BODY_MOUNT} nullfs ro 0 0`,
      // … switchBody: drain (rc.d stop waits for node), swap the mount, start on the new body.
      'jexec -l delta /usr/sbin/service clawdie_agent stop',
      `bastille umount delta ${BODY_MOUNT}`,
      `bastille mount delta ${bodies}/${V2} ${BODY_MOUNT} nullfs ro 0 0`,
      'jexec -l delta /usr/sbin/service clawdie_agent start',
    ]);
    expect(fstab('delta')).toBe(`${bodies}/${V2} ${jailsDir}/delta/root${BODY_MOUNT} nullfs ro 0 0\n`);
    expect(await b.bodyOf('delta')).toBe(V2);
  });

  it('switches a stopped jail by its fstab line alone: nothing is run, it mounts the version at start', async () => {
    const b = backend();
    await b.stop('gamma');
    const n = calls().length;
    await b.switchBody('gamma', V2);
    expect(since(n).filter((c) => !c.startsWith('jls '))).toEqual([]);
    expect(await b.bodyOf('gamma')).toBe(V2);
    await expect(b.switchBody('gamma', '0.3.0-000000000000')).rejects.toThrow(/not installed/);
  });

  it('the template refuses to run without a body', async () => {
    fs.rmSync(path.join(bodies, 'current'));
    try {
      await expect(backend().create('epsilon')).rejects.toThrow(/no body is installed/);
    } finally {
      fs.symlinkSync(V1, path.join(bodies, 'current'));
    }
    await expect(runTemplateAgain('gamma')).rejects.toThrow(/mandatory arg: CLAWDIE_BODY/);
  });

  /** `bastille template` as an operator would re-run it (through the fake on PATH). */
  async function runTemplateAgain(jail: string, version?: string): Promise<void> {
    const { runOk } = await import('../../host-helper/jails/run.ts');
    await runOk('bastille', ['start', jail]);
    await runOk('bastille', [
      'template',
      jail,
      template,
      ...(version ? ['--arg', `CLAWDIE_BODY=${bodies}/${version}`] : []),
    ]);
  }
});
