// image/systemd/clawdie-agent.service: `systemd-analyze verify` where it exists (it exits 0 even on
// a bad value, so its diagnostics are read and only the known "Unknown key" lines for the backoff
// keys of systemd >= 254 are tolerated, and a broken copy proves that check can fail), plus the
// settings the design depends on, read from the file.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY, BODY_MOUNT, DEFAULT_BODIES_DIR, inJail } from '../../host-helper/body/layout.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const unit = path.join(repo, 'image/systemd/clawdie-agent.service');

function exec(cmd: string, args: string[], cwd?: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

const analyze = await exec('systemd-analyze', ['--version']);
const systemdVersion = Number(/systemd (\d+)/.exec(analyze.out)?.[1] ?? 0);
const haveAnalyze = analyze.code === 0 && systemdVersion > 0;
if (!haveAnalyze) {
  process.stdout.write('image-systemd: systemd-analyze not found; skipping `systemd-analyze verify`\n');
}

/** Diagnostics of `systemd-analyze verify` that point at a real problem of the unit. */
function problems(output: string): string[] {
  const tolerated = systemdVersion < 254 ? /Unknown key '(RestartSteps|RestartMaxDelaySec)'/ : /^$/;
  return output
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => !tolerated.test(l));
}

/** The unit's [Service]/[Unit] assignments; repeated keys keep every value. */
function parseUnit(text: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1] ?? '';
      continue;
    }
    const at = line.indexOf('=');
    const key = `${section}.${line.slice(0, at)}`;
    keys.set(key, [...(keys.get(key) ?? []), line.slice(at + 1)]);
  }
  return keys;
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'clawdie-systemd-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('systemd/clawdie-agent.service', () => {
  it.skipIf(!haveAnalyze)('passes systemd-analyze verify', async () => {
    await copyFile(unit, path.join(work, 'clawdie-agent.service'));
    const r = await exec('systemd-analyze', ['verify', path.join(work, 'clawdie-agent.service')], work);
    expect(problems(r.out)).toEqual([]);
    expect(r.code).toBe(0);
  });

  it.skipIf(!haveAnalyze)('the verify check does catch a broken unit', async () => {
    const broken = (await readFile(unit, 'utf8'))
      .replace(/^KillMode=mixed$/m, 'KillMode=sometimes')
      .replace(/^ProtectSystem=strict$/m, 'ProtectSystem=very');
    await writeFile(path.join(work, 'clawdie-broken.service'), broken);
    const r = await exec('systemd-analyze', ['verify', path.join(work, 'clawdie-broken.service')], work);
    expect(problems(r.out).length).toBeGreaterThanOrEqual(2);
  });

  it('runs node as the dedicated user, hardened, and drains on stop', async () => {
    const u = parseUnit(await readFile(unit, 'utf8'));
    const one = (k: string): string | undefined => u.get(k)?.at(-1);
    expect(one('Service.Type')).toBe('exec');
    expect(one('Service.User')).toBe('clawdie');
    expect(one('Service.NoNewPrivileges')).toBe('yes');
    expect(one('Service.ProtectSystem')).toBe('strict');
    expect(one('Service.StateDirectory')).toBe('clawdie');
    expect(one('Service.PrivateTmp')).toBe('yes');
    expect(one('Service.KillSignal')).toBe('SIGTERM');
    expect(one('Service.Restart')).toBe('on-failure');
    expect(one('Service.BindPaths')).toBe('/var/lib/clawdie:/var/db/clawdie');
    expect(u.get('Service.BindReadOnlyPaths')).toEqual([
      '/home/clawdie',
      `${DEFAULT_BODIES_DIR}/current:${BODY_MOUNT}`,
    ]);
    expect(one('Service.CapabilityBoundingSet')).toBe('');
    const stop = /^(\d+)s$/.exec(one('Service.TimeoutStopSec') ?? '');
    expect(Number(stop?.[1])).toBeGreaterThanOrEqual(45);
    const execStart = one('Service.ExecStart') ?? '';
    // The body's node on the body's bundle (host-helper/body/layout.ts).
    expect(execStart.split(' ')).toEqual([
      '/usr/bin/env',
      inJail(BODY.node),
      '--disable-warning=ExperimentalWarning',
      inJail(BODY.bundle),
      'run',
      '--root',
      '/',
    ]);
  });

  it('puts no secret in the environment: no EnvironmentFile, no LoadCredential; JIT stays allowed', async () => {
    const u = parseUnit(await readFile(unit, 'utf8'));
    const keys = [...u.keys()];
    expect(keys.filter((k) => /EnvironmentFile|LoadCredential|SetCredential/.test(k))).toEqual([]);
    expect(u.get('Service.Environment')).toEqual(['CLAWDIE_USER=clawdie']);
    expect(u.get('Service.MemoryDenyWriteExecute')).toBeUndefined();
  });
});
