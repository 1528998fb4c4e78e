// The adversarial suite of the host-side safe writer (DESIGN §1, §6): a jailed root plants
// symlinks (absolute and relative), hardlinks, FIFOs and directory swaps at every component of
// <jail root>/home/clawdie/.env and races swaps during writes. Whatever happens, nothing outside the
// jail root may be written, chmod'ed or chown'ed: a sentinel tree outside is snapshotted (content,
// mode, owner, mtime, link targets) before and compared after. Runs as root (CI) with real owners.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type EnvLocation,
  inspectEnv,
  safeRemoveEnv,
  safeWriteEnv,
} from '../../host-helper/envfile/safe-writer.ts';
import { PROC_FD_MODE } from '../../host-helper/jailfs/dirfd.ts';
import { EnvFileError, UnsafePathError } from '../../host-helper/jailfs/fs-errors.ts';
import { IS_ROOT, jailLayout, OWNER, snapshotTree, writeSentinels } from '../support/sentinel-tree.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const NODE = fs.existsSync(path.join(REPO, 'node_modules/.bin/node'))
  ? path.join(REPO, 'node_modules/.bin/node')
  : process.execPath;
const { base, jails, outside, jailRoot, home, userDir, envFile, loc } = jailLayout('clawdie-adv-');
const children: ChildProcess[] = [];
const ITERATIONS = 300;

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  fs.rmSync(base, { recursive: true, force: true });
});

/** Everything observable about a tree, without following links. */
const snapshot = (root: string): Record<string, string> => snapshotTree(root);

/** A tree a link-following writer WOULD succeed in writing to: clawdie/.env, .env, files to chown. */
function makeOutside(): void {
  fs.rmSync(outside, { recursive: true, force: true });
  writeSentinels(outside);
}

function makeJail(): void {
  fs.rmSync(path.join(jails, 'alpha'), { recursive: true, force: true });
  fs.mkdirSync(userDir, { recursive: true, mode: 0o755 });
  fs.chmodSync(userDir, 0o700);
  if (IS_ROOT) fs.chownSync(userDir, OWNER.uid, OWNER.gid);
}

const rel = (from: string, to: string): string => path.relative(path.dirname(from), to);

function expectRefused(fn: () => unknown): void {
  expect(fn).toThrow(/refused/);
}

/** Runs fn, which must throw; returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

/** A typed refusal: one line naming the path in the jail and what was wrong, the errno as cause. */
function expectTypedRefusal(err: unknown, path_: string, what: RegExp, errno?: string): void {
  expect(err).toBeInstanceOf(UnsafePathError);
  const e = err as UnsafePathError;
  expect(e.exitCode).toBe(4);
  expect(e.message).toMatch(/^refused: /);
  expect(e.message).not.toContain('\n');
  expect(e.message).toContain(path_);
  expect(e.message).toMatch(what);
  if (errno !== undefined) expect((e.cause as NodeJS.ErrnoException).code).toBe(errno);
}

describe('safe writer against a hostile jail root', () => {
  let before: Record<string, string>;

  beforeEach(() => {
    makeOutside();
    makeJail();
    before = snapshot(outside);
  });

  const expectOutsideUntouched = (): void => expect(snapshot(outside)).toEqual(before);

  it('uses the descriptor-relative (openat-equivalent) mode on Linux', () => {
    expect(PROC_FD_MODE).toBe(process.platform === 'linux');
  });

  it('writes 0600, owned by the jail user, and reads back the same bytes', () => {
    safeWriteEnv(loc, OWNER, 'A=1\n');
    const st = fs.lstatSync(envFile);
    expect(st.isFile()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect([st.uid, st.gid]).toEqual([OWNER.uid, OWNER.gid]);
    expect(fs.readFileSync(envFile, 'utf8')).toBe('A=1\n');
    expect(fs.readdirSync(userDir)).toEqual(['.env']);
    expectOutsideUntouched();
  });

  for (const kind of ['absolute', 'relative'] as const) {
    it(`refuses home as a ${kind} symlink out of the jail`, () => {
      fs.rmSync(home, { recursive: true });
      fs.symlinkSync(kind === 'absolute' ? outside : rel(home, outside), home);
      expectRefused(() => safeWriteEnv(loc, OWNER, 'A=1\n'));
      expectRefused(() => safeRemoveEnv(loc));
      expectOutsideUntouched();
    });

    it(`refuses home/clawdie as a ${kind} symlink out of the jail`, () => {
      fs.rmSync(userDir, { recursive: true });
      const target = path.join(outside, 'clawdie');
      fs.symlinkSync(kind === 'absolute' ? target : rel(userDir, target), userDir);
      expectRefused(() => safeWriteEnv(loc, OWNER, 'A=1\n'));
      expectRefused(() => inspectEnv(loc));
      expectOutsideUntouched();
    });

    it(`replaces (never follows) .env as a ${kind} symlink out of the jail`, () => {
      const target = path.join(outside, 'target');
      fs.symlinkSync(kind === 'absolute' ? target : rel(envFile, target), envFile);
      expect(inspectEnv(loc)).toEqual({ kind: 'not-regular', what: 'symlink' });
      safeWriteEnv(loc, OWNER, 'A=2\n');
      expect(fs.lstatSync(envFile).isFile()).toBe(true);
      expect(fs.readFileSync(envFile, 'utf8')).toBe('A=2\n');
      expectOutsideUntouched();
    });

    it(`refuses the jail root itself as a ${kind} symlink`, () => {
      fs.rmSync(jailRoot, { recursive: true });
      fs.symlinkSync(kind === 'absolute' ? outside : rel(jailRoot, outside), jailRoot);
      expectRefused(() => safeWriteEnv(loc, OWNER, 'A=1\n'));
      expectOutsideUntouched();
    });
  }

  it('replaces a .env hardlinked to a file outside without touching that file', () => {
    fs.linkSync(path.join(outside, 'target'), envFile);
    const st = inspectEnv(loc);
    expect(st.kind === 'file' && st.nlink).toBe(2);
    safeWriteEnv(loc, OWNER, 'A=3\n');
    expect(fs.readFileSync(envFile, 'utf8')).toBe('A=3\n');
    expect(fs.lstatSync(path.join(outside, 'target')).nlink).toBe(1);
    // The link count of the outside file changed because the jail's name went away; nothing else did.
    const after = snapshot(outside);
    expect(after.target?.replace(' n1 ', ' n? ')).toBe(
      before.target?.replace(' n2 ', ' n? ').replace(' n1 ', ' n? '),
    );
    expect({ ...after, target: '' }).toEqual({ ...before, target: '' });
  });

  it('replaces a FIFO at .env without blocking on it', () => {
    fs.rmSync(envFile, { force: true });
    spawnSyncOk('mkfifo', [envFile]);
    expect(inspectEnv(loc)).toEqual({ kind: 'not-regular', what: 'other' });
    safeWriteEnv(loc, OWNER, 'A=4\n');
    expect(fs.readFileSync(envFile, 'utf8')).toBe('A=4\n');
    expectOutsideUntouched();
  });

  it('refuses FIFOs and files where directories belong, and a directory at .env', () => {
    fs.rmSync(userDir, { recursive: true });
    spawnSyncOk('mkfifo', [userDir]);
    expectRefused(() => safeWriteEnv(loc, OWNER, 'A=1\n'));
    fs.rmSync(userDir);
    fs.writeFileSync(userDir, 'x');
    expectRefused(() => safeWriteEnv(loc, OWNER, 'A=1\n'));
    fs.rmSync(userDir);
    fs.mkdirSync(path.join(userDir, '.env'), { recursive: true });
    expectTypedRefusal(
      thrown(() => safeWriteEnv(loc, OWNER, 'A=1\n')),
      envFile,
      /\.env is a directory \(renaming the new file into place\)$/,
      'EISDIR',
    );
    expect(fs.readdirSync(userDir)).toEqual(['.env']); // the temp file was cleaned up
    expectOutsideUntouched();
  });

  it('a directory at .env, empty or not: write and remove are typed refusals, the directory stays', () => {
    fs.mkdirSync(envFile);
    expectTypedRefusal(
      thrown(() => safeWriteEnv(loc, OWNER, 'A=1\n')),
      envFile,
      /is a directory/,
      'EISDIR',
    );
    fs.writeFileSync(path.join(envFile, 'inside'), 'x');
    expectTypedRefusal(
      thrown(() => safeWriteEnv(loc, OWNER, 'A=1\n')),
      envFile,
      /is a directory/,
      'EISDIR',
    );
    expectTypedRefusal(
      thrown(() => safeRemoveEnv(loc)),
      envFile,
      /is a directory \(removing\)$/,
    );
    expect(inspectEnv(loc)).toEqual({ kind: 'not-regular', what: 'other' });
    expect(fs.readFileSync(path.join(envFile, 'inside'), 'utf8')).toBe('x');
    expect(fs.readdirSync(userDir)).toEqual(['.env']);
    expectOutsideUntouched();
  });

  it('a FIFO at .env: inspected without opening it, removed on revoke, replaced by a write', () => {
    spawnSyncOk('mkfifo', [envFile]);
    expect(inspectEnv(loc)).toEqual({ kind: 'not-regular', what: 'other' });
    expect(safeRemoveEnv(loc)).toBe(true);
    expect(fs.existsSync(envFile)).toBe(false);
    spawnSyncOk('mkfifo', [envFile]);
    safeWriteEnv(loc, OWNER, 'A=6\n');
    expect(fs.lstatSync(envFile).isFile()).toBe(true);
    expect(fs.readFileSync(envFile, 'utf8')).toBe('A=6\n');
    expectOutsideUntouched();
  });

  it('a FIFO where home/clawdie belongs is a typed refusal naming it', () => {
    fs.rmSync(userDir, { recursive: true });
    spawnSyncOk('mkfifo', [userDir]);
    expectTypedRefusal(
      thrown(() => safeWriteEnv(loc, OWNER, 'A=1\n')),
      userDir,
      /is not a directory$/,
    );
    expectOutsideUntouched();
  });

  it('a full file system is a typed failure naming the step, the old .env intact', (ctx) => {
    // A 64 KiB tmpfs as the jails dir (root only; skipped where mounting is not allowed).
    const small = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-enospc-'));
    const mounted =
      IS_ROOT && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small]).status === 0;
    try {
      if (!mounted) return ctx.skip();
      const dir = path.join(small, 'alpha', 'root', 'home', 'clawdie');
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const smallLoc: EnvLocation = { jailsRoot: small, jail: 'alpha', user: 'clawdie' };
      safeWriteEnv(smallLoc, OWNER, 'OLD=1\n');
      const err = thrown(() => safeWriteEnv(smallLoc, OWNER, `BIG=${'x'.repeat(256 * 1024)}\n`));
      expect(err).toBeInstanceOf(EnvFileError);
      const e = err as EnvFileError;
      expect(e.exitCode).toBe(1);
      expect(e.kind).toBe('retryable');
      expect(e.message).toMatch(
        /^failed: writing the temp file .*\/home\/clawdie\/\.env\.clawdie-[0-9a-f]{16}: ENOSPC/,
      );
      expect(e.message).not.toContain('\n');
      expect((e.cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
      expect(fs.readFileSync(path.join(dir, '.env'), 'utf8')).toBe('OLD=1\n');
      expect(fs.readdirSync(dir)).toEqual(['.env']);
    } finally {
      if (mounted) spawnSync('umount', [small]);
      fs.rmSync(small, { recursive: true, force: true });
    }
  });

  it('removes planted temp-name links instead of following them', () => {
    for (let i = 0; i < 8; i += 1) {
      fs.symlinkSync(
        path.join(outside, 'target'),
        path.join(userDir, `.env.clawdie-${String(i).repeat(16)}`),
      );
    }
    fs.symlinkSync(path.join(outside, 'clawdie'), path.join(userDir, '.env.clawdie-abcdefabcdefabcd'));
    safeWriteEnv(loc, OWNER, 'A=5\n');
    expect(fs.readdirSync(userDir)).toEqual(['.env']);
    expect(fs.readFileSync(envFile, 'utf8')).toBe('A=5\n');
    expectOutsideUntouched();
  });

  it('removes a .env symlink itself on revoke, not its target', () => {
    fs.symlinkSync(path.join(outside, 'target'), envFile);
    expect(safeRemoveEnv(loc)).toBe(true);
    expect(fs.existsSync(envFile)).toBe(false);
    expectOutsideUntouched();
  });

  for (const level of ['home', 'home/clawdie'] as const) {
    it(`survives a directory-for-symlink swap race at ${level} with zero writes outside`, async () => {
      fs.writeFileSync(path.join(outside, 'clawdie', 'marker'), '');
      fs.rmSync(path.join(outside, 'clawdie', 'marker'));
      before = snapshot(outside);
      const victim = level === 'home' ? home : userDir;
      const target = level === 'home' ? outside : path.join(outside, 'clawdie');
      const swapper = startSwapper(victim, target);
      await swapper.ready;
      let written = 0;
      let refused = 0;
      for (let i = 0; i < ITERATIONS; i += 1) {
        try {
          safeWriteEnv(loc, OWNER, `A=${i}\n`);
          written += 1;
        } catch (err) {
          expect(String((err as Error).message)).toMatch(/refused/);
          refused += 1;
        }
      }
      await swapper.stop();
      expect(written + refused).toBe(ITERATIONS);
      expect(refused).toBeGreaterThan(0); // the race really happened
      expectOutsideUntouched();
      // Whatever got written is inside the jail, complete, and ours.
      const envPath = level === 'home' ? path.join(victim, 'clawdie', '.env') : path.join(victim, '.env');
      if (fs.existsSync(envPath)) {
        expect(fs.readFileSync(envPath, 'utf8')).toMatch(/^A=\d+\n$/);
        expect(fs.lstatSync(envPath).uid).toBe(OWNER.uid);
      }
    }, 90_000);
  }

  it('leaves the old or the new .env after kill -9 mid-write, never a partial one', async () => {
    const big = (c: string): string => `BIG=${c.repeat(512 * 1024)}\n`;
    safeWriteEnv(loc, OWNER, 'OLD=1\n');
    const allowed = new Set(['OLD=1\n', big('a'), big('b')].map(hash));
    for (let round = 0; round < 8; round += 1) {
      const child = spawn(
        NODE,
        [
          '--input-type=module',
          '-e',
          `import { safeWriteEnv } from ${JSON.stringify(path.join(REPO, 'host-helper/envfile/safe-writer.ts'))};
           const loc = ${JSON.stringify(loc)}; const owner = ${JSON.stringify(OWNER)};
           let i = 0; process.stdout.write('go\\n');
           for (;;) { safeWriteEnv(loc, owner, 'BIG=' + (i++ % 2 ? 'b' : 'a').repeat(512 * 1024) + '\\n'); }`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(child);
      await new Promise<void>((res) => child.stdout?.once('data', () => res()));
      // Let it get into its loop for a varying number of writes, then kill it without warning.
      await waitForWrites(round + 1);
      child.kill('SIGKILL');
      await new Promise((res) => child.once('exit', res));
      expect(allowed.has(hash(fs.readFileSync(envFile, 'utf8')))).toBe(true);
      expect(fs.lstatSync(envFile).mode & 0o777).toBe(0o600);
    }
    // Stale temps of killed writers are removed by the next write.
    safeWriteEnv(loc, OWNER, 'OLD=1\n');
    expect(fs.readdirSync(userDir)).toEqual(['.env']);
    expectOutsideUntouched();
  });
});

const hash = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Waits until .env's inode changed `n` times (each rename is a new inode). */
async function waitForWrites(n: number): Promise<void> {
  let last = fs.statSync(envFile).ino;
  let seen = 0;
  while (seen < n) {
    await new Promise((r) => setImmediate(r));
    const ino = fs.statSync(envFile, { throwIfNoEntry: false })?.ino;
    if (ino !== undefined && ino !== last) {
      last = ino;
      seen += 1;
    }
  }
}

function spawnSyncOk(bin: string, args: string[]): void {
  const { spawnSync } = require_('node:child_process') as typeof import('node:child_process');
  const r = spawnSync(bin, args);
  if (r.status !== 0) throw new Error(`${bin} failed`);
}

function require_(id: string): unknown {
  return process.getBuiltinModule(id);
}

/** A separate process swapping `victim` (a directory) for a symlink to `target`, in a tight loop. */
function startSwapper(victim: string, target: string): { ready: Promise<void>; stop: () => Promise<void> } {
  const child = spawn(
    NODE,
    [
      '-e',
      `const fs = require('node:fs'); const v = ${JSON.stringify(victim)}, t = ${JSON.stringify(target)};
       process.stdout.write('go\\n');
       for (;;) {
         try { fs.renameSync(v, v + '.real'); fs.symlinkSync(t, v); } catch {}
         try { fs.unlinkSync(v); fs.renameSync(v + '.real', v); } catch {}
       }`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  const ready = new Promise<void>((res) => child.stdout?.once('data', () => res()));
  const stop = async (): Promise<void> => {
    // The loop never yields to the event loop, so no signal handler could run: kill, then restore.
    const exited = new Promise((res) => child.once('exit', res));
    child.kill('SIGKILL');
    await exited;
    if (fs.lstatSync(victim, { throwIfNoEntry: false })?.isSymbolicLink()) fs.unlinkSync(victim);
    if (fs.existsSync(`${victim}.real`)) fs.renameSync(`${victim}.real`, victim);
  };
  return { ready, stop };
}
