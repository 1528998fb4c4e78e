// image/bastille/clawdie-agent/Bastillefile read the way Bastille reads it (continuation lines
// joined, blank and comment lines dropped, first word the hook, ${ARG} replaced by its value):
// only known hooks, every CMD line parses as the `sh -c` Bastille runs it with, and the jail it
// describes is the one DESIGN §4, §6 and §11 expect (the body mounted read-only where the layout
// puts it, the service the body's rc.d script, user, modes, soul layers, no package, no copy, no .env).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BODY, BODY_MOUNT, inJail } from '../../host-helper/body/layout.ts';
import { resolvePaths } from '../../src/config/paths.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const file = path.join(repo, 'image/bastille/clawdie-agent/Bastillefile');

const HOOKS = new Set([
  'ARG',
  'ARG+',
  'CMD',
  'CONFIG',
  'CP',
  'INCLUDE',
  'LIMITS',
  'MOUNT',
  'PKG',
  'RDR',
  'RENDER',
  'RESTART',
  'SERVICE',
  'SYSRC',
  'TAGS',
]);

interface Step {
  hook: string;
  args: string;
}

/** Bastille's reading: join `\`-continued lines, skip blanks and comments, substitute ARGs. */
function steps(text: string, overrides: Record<string, string> = {}): Step[] {
  const joined = text.replace(/\\\n/g, '');
  const args = new Map<string, string>();
  const out: Step[] = [];
  for (const line of joined.split('\n')) {
    if (/^\s*$/.test(line) || /^\s*#/.test(line)) continue;
    const [hook = '', ...rest] = line.split(' ');
    let rawArgs = rest.join(' ').trim();
    for (const [k, v] of args) rawArgs = rawArgs.replaceAll(`\${${k}}`, v);
    if (hook === 'ARG' || hook === 'ARG+') {
      const [name = '', value = ''] = rawArgs.split('=');
      args.set(name, overrides[name] ?? value.replace(/"/g, ''));
    }
    out.push({ hook, args: rawArgs });
  }
  return out;
}

function shParses(command: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-n', '-c', command], (err) => resolve(!err));
  });
}

describe('bastille/clawdie-agent/Bastillefile', async () => {
  const text = await readFile(file, 'utf8');
  const all = steps(text);
  const cmds = all.filter((s) => s.hook === 'CMD').map((s) => s.args);

  it('uses only Bastille hooks', () => {
    expect(all.length).toBeGreaterThan(5);
    expect(all.filter((s) => !HOOKS.has(s.hook))).toEqual([]);
  });

  it('every CMD parses as POSIX sh, with every ARG placeholder replaced', async () => {
    for (const c of cmds) {
      expect(await shParses(c), c).toBe(true);
      expect(c, 'an ARG was left unreplaced').not.toMatch(/\$\{CLAWDIE_[A-Z_]+\}/);
    }
  });

  it('the sh check can fail: a broken CMD does not parse', async () => {
    expect(await shParses('if [ -L /home ]; then echo x')).toBe(false);
  });

  it('mounts the body it is given read-only at the body mount, and installs no package', () => {
    expect(all.filter((s) => s.hook === 'ARG+')).toEqual([{ hook: 'ARG+', args: 'CLAWDIE_BODY' }]);
    const body = '/usr/local/clawdie/bodies/0.1.0-0123456789ab';
    const mounts = steps(text, { CLAWDIE_BODY: body }).filter((s) => s.hook === 'MOUNT');
    // bastille mount TARGET HOST_PATH JAIL_PATH nullfs ro 0 0 (Bastille's mount.sh)
    expect(mounts).toEqual([{ hook: 'MOUNT', args: `${body} ${BODY_MOUNT} nullfs ro 0 0` }]);
    // The image soul layer the agent reads (DESIGN §4) is the body's soul/.
    const image = resolvePaths({ root: '/' }).layers.find((l) => l.name === 'image');
    expect(image?.dir).toBe(inJail(BODY.soul));
    expect(all.filter((s) => s.hook === 'PKG' || s.hook === 'CP')).toEqual([]);
  });

  it('creates the unprivileged clawdie user with a fixed, overridable uid', () => {
    const useradd = cmds.find((c) => c.includes('pw useradd')) ?? '';
    for (const part of [
      '-n clawdie',
      '-u 1789',
      '-g clawdie',
      '-d /home/clawdie',
      '-s /usr/sbin/nologin',
      '-w no',
    ]) {
      expect(useradd).toContain(part);
    }
    const overridden = steps(text, { CLAWDIE_UID: '2042' }).find((s) => s.args.includes('pw useradd'));
    expect(overridden?.args).toContain('-u 2042');
    expect(cmds.some((c) => c.includes('id -u clawdie') && c.includes('-ne 0'))).toBe(true);
  });

  it('gives the agent its home and state dir (0700) and keeps the soul layers root-owned', () => {
    expect(cmds).toContain('install -d -o clawdie -g clawdie -m 0700 /home/clawdie');
    expect(cmds).toContain('install -d -o clawdie -g clawdie -m 0700 /var/db/clawdie');
    expect(cmds).toContain(
      'install -d -o root -g wheel -m 0755 /usr/local/etc/clawdie /usr/local/etc/clawdie/soul',
    );
    // /home must be a real directory: the host's writer refuses links on the way to the .env.
    expect(cmds.some((c) => c.startsWith('if [ -L /home ]'))).toBe(true);
  });

  it('runs the service from the body: the jail rc.d holds a link to the body script', () => {
    expect(cmds).toContain(`ln -sfn ${inJail(BODY.rcd)} /usr/local/etc/rc.d/clawdie_agent`);
  });

  it('enables and (re)starts the service, after everything it needs exists', () => {
    const sysrc = all.findIndex((s) => s.hook === 'SYSRC' && s.args === 'clawdie_agent_enable=YES');
    const service = all.findIndex((s) => s.hook === 'SERVICE' && s.args === 'clawdie_agent restart');
    const lastSetup = Math.max(
      all.findIndex((s) => s.hook === 'MOUNT'),
      ...cmds.map((c) => all.findIndex((s) => s.args === c)),
    );
    expect(sysrc).toBeGreaterThan(lastSetup);
    expect(service).toBeGreaterThan(sysrc);
  });

  it('never writes the tenant .env (the host provisions it)', () => {
    expect(all.filter((s) => s.args.includes('.env'))).toEqual([]);
  });
});
