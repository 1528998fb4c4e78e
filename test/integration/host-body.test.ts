// `clawdie-host body …` (DESIGN §11) on a real store in a temp dir, through the CLI's own entry
// (main: flags, config, exit codes, --json output), the first install as a real process: install
// makes a read-only version named by its content from a build's body directory and a runtime (the
// Linux runtime from a small stand-in binary; the FreeBSD runtime through a recorded stand-in for
// pkg(8)), keeps the one before it as `previous`, stores unchanged files once; list, switch,
// rollback and prune move jails and links. The jails are stopped `linux` jails (a switch records the
// version for their next start; the drained restart of running ones is in test/e2e/linux-jail).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY, VERSION_RE } from '../../host-helper/body/layout.ts';
import { compareEntries, listEntries, Manifest } from '../../host-helper/body/manifest.ts';
import { main } from '../../host-helper/cli.ts';
import { banner } from '../../image/bundle.ts';
import { nodeBinary, REPO_ROOT } from '../support/hive-process.ts';

const CLI = path.join(REPO_ROOT, 'host-helper/cli.ts');
/** A small dynamically linked program stands in for node: the runtime copies it and its libraries. */
const STAND_IN = fs.realpathSync('/bin/true');

let base: string;
let store: string;
let config: string;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  json: () => unknown;
}

/** A real `clawdie-host` process. */
function cliProcess(args: string[]): CliRun {
  const r = spawnSync(nodeBinary(), [CLI, 'body', ...args, '--config', config, '--json'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

/** The same entry in this process (seconds saved per call; the process boundary is tested above). */
async function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const sink = () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(c, _e, done) {
        chunks.push(String(c));
        done();
      },
    });
    return { stream, text: () => chunks.join('') };
  };
  const out = sink();
  const err = sink();
  const savedPath = process.env.PATH;
  const umask = process.umask();
  if (env.PATH) process.env.PATH = env.PATH; // jail tools run with the host's PATH
  try {
    const code = await main(['body', ...args, '--config', config, '--json'], {
      stdout: out.stream,
      stderr: err.stream,
      env: { ...process.env, ...env },
      signal: new AbortController().signal,
    });
    return { code, stdout: out.text(), stderr: err.text(), json: () => JSON.parse(out.text()) };
  } finally {
    process.env.PATH = savedPath;
    process.umask(umask);
  }
}

/** A build's body directory (what `npm run build` leaves in dist/body). */
function source(name: string, soul = 'I am the image.\n'): string {
  const dir = path.join(base, name);
  fs.mkdirSync(path.join(dir, 'libexec'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'etc/rc.d'), { recursive: true });
  fs.mkdirSync(path.join(dir, BODY.soul, 'skills/echo'), { recursive: true });
  fs.writeFileSync(path.join(dir, BODY.bundle), `${banner('clawdie-agent', '0.1.0')}\nawait 0;\n`, {
    mode: 0o755,
  });
  fs.writeFileSync(path.join(dir, BODY.boot), '#!/bin/sh\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, BODY.rcd), '#!/bin/sh\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, BODY.soul, 'SOUL.md'), soul);
  fs.writeFileSync(path.join(dir, BODY.soul, 'skills/echo/SKILL.md'), '---\nname: echo\n---\n');
  return dir;
}

const install = (from: string, more: string[] = [], env: Record<string, string> = {}) =>
  cli(['install', '--from', from, '--node', STAND_IN, ...more], env);

/** A stopped linux jail: its root, and the body it is recorded on. */
function jail(name: string, version: string): void {
  fs.mkdirSync(path.join(base, 'jails', name, 'root'), { recursive: true });
  fs.writeFileSync(path.join(base, 'jails', name, 'body'), `${version}\n`);
}
const recorded = (name: string): string =>
  fs.readFileSync(path.join(base, 'jails', name, 'body'), 'utf8').trim();

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-body-'));
  store = path.join(base, 'bodies');
  fs.mkdirSync(path.join(base, 'jails'));
  fs.writeFileSync(path.join(base, 'admin.token'), 'x\n', { mode: 0o600 });
  config = path.join(base, 'host.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      store: path.join(base, 'state/tenants.db'),
      vault: {
        server: 'https://127.0.0.1:1',
        organization: 'x',
        credentialsFile: path.join(base, 'bw.env'),
        appdataDir: path.join(base, 'bw'),
      },
      hive: { url: 'http://127.0.0.1:1', adminTokenFile: path.join(base, 'admin.token') },
      jails: { backend: 'linux', root: path.join(base, 'jails'), user: 'clawdie', bodies: store },
    }),
    { mode: 0o644 },
  );
});

afterAll(() => {
  // Versions are read-only: make them removable first.
  const chmodTree = (d: string): void => {
    fs.chmodSync(d, 0o755);
    for (const e of fs.readdirSync(d, { withFileTypes: true }))
      if (e.isDirectory()) chmodTree(path.join(d, e.name));
  };
  if (fs.existsSync(store)) chmodTree(store);
  fs.rmSync(base, { recursive: true, force: true });
});

describe('clawdie-host body', () => {
  let v1: string;
  let v2: string;

  it('install makes a read-only version named by its content, with a manifest that matches it', async () => {
    const r = cliProcess(['install', '--from', source('src-1'), '--node', STAND_IN]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json() as { version: string; created: boolean; previous?: string; dir: string };
    v1 = out.version;
    expect(v1).toMatch(VERSION_RE);
    expect(v1.startsWith('0.1.0-')).toBe(true);
    expect(out).toMatchObject({ created: true, dir: path.join(store, v1) });
    expect(fs.readlinkSync(path.join(store, 'current'))).toBe(v1);
    const dir = path.join(store, v1);
    // Node (here its stand-in) and the libraries it needs, at the paths the jail resolves.
    expect(fs.statSync(path.join(dir, BODY.node)).mode & 0o777).toBe(0o555);
    expect(fs.existsSync(path.join(dir, BODY.runtime, 'lib64'))).toBe(true);
    for (const e of await listEntries(dir)) {
      if ('link' in e) continue;
      const mode = fs.lstatSync(path.join(dir, e.path)).mode & 0o7777;
      expect(mode & 0o222, `${e.path} is writable`).toBe(0);
      if ('dir' in e) expect(mode, e.path).toBe(0o555);
    }
    expect(fs.statSync(dir).mode & 0o777).toBe(0o555);
    const manifest = Manifest.parse(JSON.parse(fs.readFileSync(path.join(dir, BODY.manifest), 'utf8')));
    expect(manifest).toMatchObject({ version: v1, agent: '0.1.0', platform: 'linux', runtime: 'host-copy' });
    expect(compareEntries(manifest.entries, await listEntries(dir))).toEqual([]);
    // The comparison can fail: a file that differs from the manifest is found.
    const tampered = manifest.entries.map((e) =>
      'sha256' in e && e.path === BODY.bundle ? { ...e, sha256: '0'.repeat(64) } : e,
    );
    expect(compareEntries(tampered, await listEntries(dir))).toEqual([`changed: ${BODY.bundle}`]);
  });

  it('installing the same build again is the same version, and moves no link', async () => {
    const r = await install(source('src-1b'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ version: v1, created: false });
    expect(fs.existsSync(path.join(store, 'previous'))).toBe(false);
    expect(fs.readdirSync(store).filter((n) => n.startsWith('.staging'))).toEqual([]);
  });

  it('a new build becomes current, the old one previous; unchanged files are stored once', async () => {
    const r = await install(source('src-2', 'I am the new image.\n'));
    expect(r.code, r.stderr).toBe(0);
    v2 = (r.json() as { version: string }).version;
    expect(v2).not.toBe(v1);
    expect(r.json()).toMatchObject({ created: true, previous: v1 });
    expect([
      fs.readlinkSync(path.join(store, 'current')),
      fs.readlinkSync(path.join(store, 'previous')),
    ]).toEqual([v2, v1]);
    const ino = (v: string, p: string): number => fs.statSync(path.join(store, v, p)).ino;
    expect(ino(v2, BODY.node)).toBe(ino(v1, BODY.node));
    expect(ino(v2, BODY.bundle)).toBe(ino(v1, BODY.bundle));
    expect(ino(v2, `${BODY.soul}/SOUL.md`)).not.toBe(ino(v1, `${BODY.soul}/SOUL.md`));
  });

  it('refuses a build with a link in it, without a bundle, or with a bundle of no version', async () => {
    const linked = source('src-link');
    fs.symlinkSync('/etc/passwd', path.join(linked, BODY.soul, 'skills/echo/evil'));
    const r1 = await install(linked);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toContain('files and directories only');
    const bare = source('src-bare');
    fs.rmSync(path.join(bare, BODY.bundle));
    expect((await install(bare)).code).toBe(3);
    const anonymous = source('src-anon');
    fs.writeFileSync(path.join(anonymous, BODY.bundle), '#!/usr/bin/env node\nawait 0;\n');
    const r3 = await install(anonymous);
    expect(r3.code).toBe(4);
    expect(r3.stderr).toContain('no clawdie-agent version line');
    expect(fs.readdirSync(store).filter((n) => n.startsWith('.staging'))).toEqual([]);
  });

  it('list shows the versions, the links, and which jail runs which', async () => {
    jail('acme', v1);
    jail('globex', v2);
    const r = await cli(['list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      current: v2,
      previous: v1,
      versions: [
        { version: v1, current: false, previous: true, jails: ['acme'] },
        { version: v2, current: true, previous: false, jails: ['globex'] },
      ].sort((a, b) => a.version.localeCompare(b.version)),
    });
  });

  it('switch moves the named jails (or all of them, making the version current); bad input is refused', async () => {
    const one = await cli(['switch', v2, 'acme']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.json()).toEqual({ version: v2, jails: [{ jail: 'acme', from: v1, to: v2, switched: true }] });
    expect(recorded('acme')).toBe(v2);
    expect((await cli(['switch', v1])).code).toBe(2); // neither jails nor --all
    expect((await cli(['switch', v1, 'acme', '--all'])).code).toBe(2);
    expect((await cli(['switch', '0.9.9-000000000000', 'acme'])).code).toBe(3);
    expect((await cli(['switch', 'not a version', 'acme'])).code).toBe(2);
    expect((await cli(['switch', v1, 'nosuch'])).code).toBe(3);
    const all = await cli(['switch', v1, '--all']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.json()).toMatchObject({
      jails: [
        { jail: 'acme', switched: true },
        { jail: 'globex', switched: true },
      ],
    });
    expect([
      fs.readlinkSync(path.join(store, 'current')),
      fs.readlinkSync(path.join(store, 'previous')),
    ]).toEqual([v1, v2]);
  });

  it('rollback --all swaps current and previous and moves every jail back', async () => {
    const r = await cli(['rollback', '--all']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ version: v2 });
    expect([recorded('acme'), recorded('globex')]).toEqual([v2, v2]);
    expect(fs.readlinkSync(path.join(store, 'current'))).toBe(v2);
    expect(fs.readlinkSync(path.join(store, 'previous'))).toBe(v1);
  });

  it('prune removes only versions no link and no jail uses', async () => {
    const v3 = ((await install(source('src-3', 'third\n'))).json() as { version: string }).version;
    // current = v3, previous = v2, jails on v2: v1 is unused.
    const r = await cli(['prune']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toEqual({ removed: [v1] });
    expect(fs.existsSync(path.join(store, v1))).toBe(false);
    expect(fs.existsSync(path.join(store, v3, BODY.node))).toBe(true);
    // The files v3 shared with v1 survived its removal (hard links).
    expect(fs.readFileSync(path.join(store, v3, BODY.boot), 'utf8')).toBe('#!/bin/sh\n');
  });

  it('installs the FreeBSD runtime with pkg -r into the body, showing pkg the base libraries only meanwhile', async () => {
    const bin = path.join(base, 'fake-pkg-bin');
    fs.mkdirSync(bin);
    const log = path.join(base, 'pkg-calls');
    // The stand-in records argv and what pkg 2.x would see under <rootdir>/lib, and installs a node.
    fs.writeFileSync(
      path.join(bin, 'pkg'),
      [
        '#!/bin/sh',
        `echo "$*" >> '${log}'`,
        'root=$2',
        'case "$3" in',
        `install) ls "$root/lib" "$root/usr/lib" 2>/dev/null | grep -c '^lib' >> '${log}'; mkdir -p "$root/usr/local/bin" "$root/usr/local/lib" "$root/var/db/pkg"`,
        '  cp /bin/true "$root/usr/local/bin/node"; echo lib > "$root/usr/local/lib/libuv.so.1"',
        '  ln -s libuv.so.1 "$root/usr/local/lib/libuv.so" ;;',
        'query) echo node24-24.9.0 ;;',
        'esac',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const r = await install(source('src-bsd', 'freebsd\n'), ['--runtime', 'freebsd'], {
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    });
    expect(r.code, r.stderr).toBe(0);
    const v = (r.json() as { version: string }).version;
    const calls = fs.readFileSync(log, 'utf8').trim().split('\n');
    expect(calls[0]).toMatch(/^-r \S+\/\.staging-[0-9a-f]+\/runtime install -y node24$/);
    expect(Number.isInteger(Number(calls[1]))).toBe(true); // what pkg saw of the base (next test)
    const dir = path.join(store, v);
    expect(fs.existsSync(path.join(dir, BODY.node))).toBe(true);
    expect(fs.readlinkSync(path.join(dir, BODY.libdir, 'libuv.so'))).toBe('libuv.so.1');
    // … and gone afterwards: the jail's own /lib and /usr/lib are its base libraries.
    expect(fs.existsSync(path.join(dir, BODY.runtime, 'lib'))).toBe(false);
    expect(fs.existsSync(path.join(dir, BODY.runtime, 'usr/lib'))).toBe(false);
    const manifest = Manifest.parse(JSON.parse(fs.readFileSync(path.join(dir, BODY.manifest), 'utf8')));
    expect(manifest).toMatchObject({ platform: 'freebsd', runtime: 'pkg', node: 'node24-24.9.0' });
  });

  it('shows pkg exactly the base system libraries, under its rootdir, while it installs', async () => {
    const { assembleFreebsdRuntime } = await import('../../host-helper/body/runtime-freebsd.ts');
    const hostRoot = path.join(base, 'freebsd-root');
    fs.mkdirSync(path.join(hostRoot, 'lib'), { recursive: true });
    fs.mkdirSync(path.join(hostRoot, 'usr/lib'), { recursive: true });
    for (const f of [
      'lib/libc.so.7',
      'lib/libthr.so.3',
      'usr/lib/libssl.so.30',
      'usr/lib/libc.a',
      'usr/lib/crt1.o',
    ])
      fs.writeFileSync(path.join(hostRoot, f), '');
    const seen = path.join(base, 'pkg-saw');
    const pkg = path.join(base, 'pkg-lister');
    fs.writeFileSync(
      pkg,
      `#!/bin/sh
(cd "$2" && find lib usr/lib -type l | sort) > '${seen}'
mkdir -p "$2/usr/local/bin" && : > "$2/usr/local/bin/node"
`,
      { mode: 0o755 },
    );
    const body = path.join(base, 'bsd-body');
    await assembleFreebsdRuntime(body, { pkgBin: pkg, hostRoot });
    expect(fs.readFileSync(seen, 'utf8').trim().split('\n')).toEqual([
      'lib/libc.so.7',
      'lib/libthr.so.3',
      'usr/lib/libssl.so.30',
    ]);
    expect(fs.readdirSync(path.join(body, BODY.runtime)).sort()).toEqual(['usr']);
    expect(fs.readdirSync(path.join(body, BODY.runtime, 'usr'))).toEqual(['local']);
  });
});
