// The bastille backend against fake bastille/jls/jexec on PATH (test/fixtures/fake-bastille) that
// record every call, and the parsers against the recorded output formats. Real files, modes and
// owners (CI runs as root): the .env written through `jexec -U clawdie` ends up owned by the jail
// user from the jail's passwd; a stopped jail is written by the host-side safe writer instead.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverEnv, IN_JAIL_WRITE_SCRIPT, removeEnv } from '../../host-helper/envfile/deliver.ts';
import { bastilleBackend, parseJls } from '../../host-helper/jails/bastille.ts';
import { jailsDirFrom, parseBastilleConf } from '../../host-helper/jails/bastille-conf.ts';
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
