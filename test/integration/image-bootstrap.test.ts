// image/agent-jail-bootstrap.sh run as a real process with a fake `bastille` first on PATH: the
// fake records every call and answers `list releases` / `list jails` from files the test controls.
// Covers argument validation (no bastille call on bad input), the version pin (a body whose bundle's
// embedded version is not the pin is refused before anything happens), the body given to the
// template (the version directory, a link such as `current` resolved), the cold-cache guard and
// its lock, creation, idempotent re-application, failures and --dry-run.
import { execFile } from 'node:child_process';
import { access, chmod, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BODY } from '../../host-helper/body/layout.ts';
import { banner } from '../../image/bundle.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const script = path.join(repo, 'image/agent-jail-bootstrap.sh');

const FAKE_BASTILLE = `#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE_STATE/calls"
case "$1" in
list)
  case "$2" in
  releases) cat "$FAKE_STATE/releases" 2>/dev/null ;;
  jails) cat "$FAKE_STATE/jails" 2>/dev/null ;;
  esac ;;
bootstrap) [ -e "$FAKE_STATE/fail-bootstrap" ] && exit 1; echo "$2" >> "$FAKE_STATE/releases" ;;
create) [ -e "$FAKE_STATE/fail-create" ] && exit 1; echo "$2" >> "$FAKE_STATE/jails" ;;
template) [ -e "$FAKE_STATE/fail-template" ] && exit 1 ;;
esac
exit 0
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let work: string;
let state: string;
let bin: string;
let template: string;
/** The body version directory, and `current`, a link to it (as in the body store). */
let bodyDir: string;
let current: string;

async function writeTemplate(dir: string, bundleHead: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'Bastillefile'), 'ARG+ CLAWDIE_BODY\n');
  await mkdir(path.join(bodyDir, 'libexec'), { recursive: true });
  await writeFile(path.join(bodyDir, BODY.bundle), `${bundleHead}\nawait 0;\n`);
}

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'clawdie-bootstrap-'));
  state = path.join(work, 'state');
  bin = path.join(work, 'bin');
  template = path.join(work, 'template');
  bodyDir = path.join(work, 'bodies', '1.2.3-0123456789ab');
  current = path.join(work, 'bodies', 'current');
  await mkdir(state);
  await mkdir(bin);
  await writeFile(path.join(bin, 'bastille'), FAKE_BASTILLE);
  await chmod(path.join(bin, 'bastille'), 0o755);
  // The real banner of a built bundle, so the shell's reader and the build's writer must agree.
  await writeTemplate(template, banner('clawdie-agent', '1.2.3'));
  await symlink('1.2.3-0123456789ab', current);
  await writeFile(path.join(state, 'releases'), '14.2-RELEASE\n14.3-RELEASE\n');
  await writeFile(path.join(state, 'jails'), 'other-tenant\n');
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

function bootstrap(args: string[], env: Record<string, string> = {}, withBastille = true): Promise<Run> {
  const fullEnv = {
    PATH: `${withBastille ? `${bin}:` : ''}/usr/bin:/bin`,
    FAKE_STATE: state,
    CLAWDIE_PIN_FILE: path.join(work, 'no-pin-file'),
    CLAWDIE_BOOTSTRAP_LOCKDIR: work,
    ...env,
  };
  return new Promise((resolve) => {
    execFile('/bin/sh', [script, ...args], { env: fullEnv, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

async function calls(): Promise<string[]> {
  const text = await readFile(path.join(state, 'calls'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean);
}

const ok = (name = 't1'): string[] => [
  '--pin',
  '1.2.3',
  '--release',
  '14.3-RELEASE',
  '--ip',
  '10.17.0.5',
  '--template',
  template,
  '--body',
  current,
  name,
];

/** The template call: the body's version directory, never the link it was named by. */
const applied = async (name = 't1'): Promise<string> =>
  `template ${name} ${template} --arg CLAWDIE_BODY=${await realpath(bodyDir)}`;

describe('agent-jail-bootstrap.sh', () => {
  it('is POSIX sh', async () => {
    await new Promise<void>((resolve, reject) => {
      execFile('/bin/sh', ['-n', script], (err) => (err ? reject(err) : resolve()));
    });
  });

  it('creates the jail from the template when the bundle matches the pin', async () => {
    const r = await bootstrap([...ok(), '--interface', 'lo1']);
    expect(r.stderr).toContain('matches the pin');
    expect(r.code).toBe(0);
    expect(await calls()).toEqual([
      'list releases',
      'list jails',
      'create t1 14.3-RELEASE 10.17.0.5 lo1',
      await applied(),
    ]);
    expect(r.stderr).toContain('next: clawdie-host provision t1');
  });

  it('re-applies the template to an existing jail without re-creating it', async () => {
    await writeFile(path.join(state, 'jails'), 'other-tenant\nt1\n');
    const r = await bootstrap(ok().filter((a, i, all) => a !== '--ip' && all[i - 1] !== '--ip'));
    expect(r.code).toBe(0);
    expect(await calls()).toEqual(['list releases', 'list jails', await applied()]);
  });

  it.each([
    ['no NAME', []],
    ['an upper-case NAME', ['Tenant']],
    ['an underscore', ['a_b']],
    ['a leading dash', ['--', '-ab']],
    ['a path', ['../etc']],
    ['a newline', ['ab\ncd']],
    ['64 characters', ['a'.repeat(64)]],
    ['two names', ['a', 'b']],
    ['an unknown option', ['--frobnicate', 'a']],
  ])('refuses %s with a usage error and no bastille call', async (_label, tail) => {
    const r = await bootstrap([
      '--pin',
      '1.2.3',
      '--release',
      '14.3-RELEASE',
      '--template',
      template,
      ...tail,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage|NAME/);
    expect(await calls()).toEqual([]);
  });

  it('accepts a 63-character NAME', async () => {
    const r = await bootstrap(ok('a'.repeat(63)));
    expect(r.code).toBe(0);
  });

  it.each([
    ['a relative template', ['--template', 'dist/image-overlay']],
    ['a malformed release', ['--release', '14.3;reboot']],
    ['a malformed pin', ['--pin', '1.2.3 evil']],
    ['a malformed address', ['--ip', '10.0.0.1;x']],
    ['a relative body', ['--body', 'bodies/current']],
    ['a body path with a space', ['--body', '/a b']],
  ])('refuses %s with a usage error', async (_label, override) => {
    const args = ok();
    const at = args.indexOf(override[0] ?? '');
    args.splice(at, 2, ...override);
    const r = await bootstrap(args);
    expect(r.code).toBe(2);
    expect(await calls()).toEqual([]);
  });

  it('refuses a body that is not installed (not found), before any bastille call', async () => {
    const args = ok().map((a) => (a === current ? path.join(work, 'bodies', 'nope') : a));
    const r = await bootstrap(args);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('clawdie-host body install');
    expect(await calls()).toEqual([]);
  });

  it('has no default pin: without --pin, CLAWDIE_AGENT_PIN or a pin file it refuses', async () => {
    const args = ok().slice(2);
    const r = await bootstrap(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no version pin');
    expect(await calls()).toEqual([]);
    expect((await bootstrap(args, { CLAWDIE_AGENT_PIN: '1.2.3' })).code).toBe(0);
  });

  it('reads the pin from the pin file', async () => {
    await writeFile(path.join(work, 'agent.pin'), '1.2.3\n');
    const r = await bootstrap(ok().slice(2), { CLAWDIE_PIN_FILE: path.join(work, 'agent.pin') });
    expect(r.code).toBe(0);
  });

  it('refuses a bundle whose embedded version is not the pin, before any bastille call', async () => {
    const args = ok();
    args[1] = '1.2.4';
    const r = await bootstrap(args);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('bundle is clawdie-agent 1.2.3, this host is pinned to 1.2.4');
    expect(await calls()).toEqual([]);
  });

  it('refuses a bundle that carries no version line', async () => {
    await writeTemplate(template, '#!/usr/bin/env node\n// built by hand');
    const r = await bootstrap(ok());
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('carries no clawdie-agent version line');
    expect(await calls()).toEqual([]);
  });

  it('reports a missing template, bundle or bastille as not found', async () => {
    const missing = await bootstrap(ok().map((a) => (a === template ? path.join(work, 'nope') : a)));
    expect(missing.code).toBe(3);
    await rm(path.join(bodyDir, BODY.bundle));
    const noBundle = await bootstrap(ok());
    expect(noBundle.code).toBe(3);
    expect(noBundle.stderr).toContain('no agent bundle');
    await writeTemplate(template, banner('clawdie-agent', '1.2.3'));
    const noBastille = await bootstrap(ok(), {}, false);
    expect(noBastille.code).toBe(3);
    expect(noBastille.stderr).toContain('bastille not found');
  });

  it('cold cache: refuses a release that was never bootstrapped unless --fetch', async () => {
    const args = ok().map((a) => (a === '14.3-RELEASE' ? '15.0-RELEASE' : a));
    const r = await bootstrap(args);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      "release 15.0-RELEASE is not bootstrapped (cold cache); run 'bastille bootstrap 15.0-RELEASE'",
    );
    expect(await calls()).toEqual(['list releases']);
  });

  it('cold cache with --fetch: bootstraps the release once, then creates the jail', async () => {
    const args = ['--fetch', ...ok().map((a) => (a === '14.3-RELEASE' ? '15.0-RELEASE' : a))];
    const first = await bootstrap(args);
    expect(first.code).toBe(0);
    expect(await calls()).toEqual([
      'list releases',
      'list releases',
      'bootstrap 15.0-RELEASE',
      'list jails',
      'create t1 15.0-RELEASE 10.17.0.5',
      await applied(),
    ]);
    await expect(access(path.join(work, 'clawdie-bootstrap-15.0-RELEASE.lock'))).rejects.toThrow();
    // A second jail finds the cache warm: no second bootstrap.
    const second = await bootstrap([
      '--fetch',
      ...ok('t2').map((a) => (a === '14.3-RELEASE' ? '15.0-RELEASE' : a)),
    ]);
    expect(second.code).toBe(0);
    expect((await calls()).filter((c) => c.startsWith('bootstrap'))).toHaveLength(1);
  });

  it('cold cache with --fetch: does not bootstrap while another run holds the lock', async () => {
    await mkdir(path.join(work, 'clawdie-bootstrap-15.0-RELEASE.lock'));
    const args = ['--fetch', ...ok().map((a) => (a === '14.3-RELEASE' ? '15.0-RELEASE' : a))];
    const r = await bootstrap(args, { CLAWDIE_BOOTSTRAP_LOCK_WAIT: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('gave up waiting');
    expect((await calls()).filter((c) => c.startsWith('bootstrap'))).toEqual([]);
  });

  it('fails (exit 1) when a bastille step fails, and does not apply the template after a failed create', async () => {
    await writeFile(path.join(state, 'fail-create'), '');
    const r = await bootstrap(ok());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bastille create t1 failed');
    expect((await calls()).some((c) => c.startsWith('template'))).toBe(false);
  });

  it('requires --ip only to create a jail', async () => {
    const r = await bootstrap(ok().filter((a, i, all) => a !== '--ip' && all[i - 1] !== '--ip'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--ip is required to create jail t1');
    expect((await calls()).some((c) => c.startsWith('create'))).toBe(false);
  });

  it('--dry-run prints the changing commands and runs only the listings', async () => {
    const r = await bootstrap(['--dry-run', ...ok()]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      'bastille create t1 14.3-RELEASE 10.17.0.5',
      `bastille ${await applied()}`,
    ]);
    expect(await calls()).toEqual(['list releases', 'list jails']);
  });
});
