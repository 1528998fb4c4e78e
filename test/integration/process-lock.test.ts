// The lock that dies with its holder (host-helper/store/process-lock.ts), with real processes and
// real files: a holder killed with SIGKILL frees the lock at once (taken within a wait bound far
// below the old stale times: 120 s tenant, 15 s bw), a live holder makes a waiter fail after its
// bound with one line, two holders in one process conflict, lock files are 0600 regular files of
// ours, and HostContext.withTenantLock (the per-tenant lock of clawdie-host) uses it.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HostContext, parseFlags } from '../../host-helper/commands/context.ts';
import { HostError } from '../../host-helper/exit-codes.ts';
import {
  acquireProcessLock,
  isLockHeld,
  LockBusyError,
  withProcessLock,
} from '../../host-helper/store/process-lock.ts';

const HOLDER = path.join(import.meta.dirname, '..', 'fixtures', 'process-lock', 'holder.ts');
let dir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-plock-'));
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts a holder process and resolves once it holds the lock. */
async function holder(
  file: string,
): Promise<{ child: ChildProcess; exited: Promise<unknown>; out: () => string }> {
  const child = spawn(process.execPath, [HOLDER, file], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString('utf8');
  });
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString('utf8');
  });
  const exited = new Promise((r) => child.once('close', r));
  while (!out.includes('held\n')) {
    if (child.exitCode !== null) throw new Error(`holder exited early: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, exited, out: () => out };
}

const busy = async (p: Promise<unknown>): Promise<LockBusyError> => {
  try {
    await p;
  } catch (err) {
    if (err instanceof LockBusyError) return err;
    throw err;
  }
  throw new Error('expected LockBusyError');
};

describe('process lock across processes', () => {
  it('a holder killed with SIGKILL frees the lock at once', async () => {
    const file = path.join(dir, 'killed.lock');
    const h = await holder(file);
    expect(await isLockHeld(file)).toBe(true);
    h.child.kill('SIGKILL');
    await h.exited;
    // 2 s bound: far below the 15 s / 120 s the stale-by-time locks needed after a kill -9.
    const lock = await acquireProcessLock(file, { waitMs: 2_000 });
    expect(await isLockHeld(file)).toBe(true);
    lock.release();
    expect(await isLockHeld(file)).toBe(false);
  });

  it('a live holder makes a waiter fail after its bound with one line, then hands over on release', async () => {
    const file = path.join(dir, 'live.lock');
    const h = await holder(file);
    const err = await busy(acquireProcessLock(file, { waitMs: 300 }));
    expect(err.message).toBe(`lock ${file} held by another holder for over 300 ms`);
    expect(err.message).not.toContain('\n');
    expect(err.kind).toBe('retryable');
    // a waiter with a longer bound gets it when the holder lets go
    const waiting = acquireProcessLock(file, { waitMs: 20_000, pollMs: 50 });
    h.child.stdin?.end();
    const lock = await waiting;
    await h.exited;
    expect(h.out()).toContain('released\n');
    expect(h.child.exitCode).toBe(0);
    lock.release();
  });

  it('a holder in this process blocks another process', async () => {
    const file = path.join(dir, 'inproc-first.lock');
    const lock = await acquireProcessLock(file, { waitMs: 0 });
    const child = spawn(process.execPath, [HOLDER, file], { stdio: ['pipe', 'pipe', 'ignore'] });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString('utf8');
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(out).toBe(''); // still waiting
    lock.release();
    while (!out.includes('held\n')) await new Promise((r) => setTimeout(r, 20));
    expect(await isLockHeld(file)).toBe(true);
  });
});

describe('process lock inside one process', () => {
  it('two holders in one process conflict; a waiter does not block the event loop', async () => {
    const file = path.join(dir, 'same.lock');
    const a = await acquireProcessLock(file, { waitMs: 0 });
    await busy(acquireProcessLock(file, { waitMs: 0 }));
    await busy(acquireProcessLock(file, { waitMs: 100 }));
    // The second waits while the first, in this same process, finishes its work and releases.
    const order: string[] = [];
    const first = withProcessLock(file, { waitMs: 10_000 }, async () => order.push('second'));
    setTimeout(() => {
      order.push('first');
      a.release();
    }, 200);
    await first;
    expect(order).toEqual(['first', 'second']);
    a.release(); // idempotent
    expect(await isLockHeld(file)).toBe(false);
  });

  it('probing or a second holder in this process leaves the kernel lock in place for other processes', async () => {
    // POSIX record locks drop when the process closes ANY descriptor of the file; SQLite keeps the
    // descriptors of a closed connection open while another connection of the process holds a lock.
    const file = path.join(dir, 'probe.lock');
    const a = await acquireProcessLock(file, { waitMs: 0 });
    expect(await isLockHeld(file)).toBe(true);
    await busy(acquireProcessLock(file, { waitMs: 50 }));
    const child = spawn(process.execPath, [HOLDER, file, '300'], { stdio: ['pipe', 'pipe', 'ignore'] });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString('utf8');
    });
    const code = await new Promise((r) => child.once('close', r));
    expect([code, out]).toEqual([3, 'busy\n']);
    a.release();
  });

  it('withProcessLock releases when its body throws', async () => {
    const file = path.join(dir, 'throws.lock');
    await expect(
      withProcessLock(file, { waitMs: 0 }, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await isLockHeld(file)).toBe(false);
  });
});

describe('lock files', () => {
  it('are created 0600, tightened if looser, and only regular files of ours are used', async () => {
    const file = path.join(dir, 'mode.lock');
    (await acquireProcessLock(file, { waitMs: 0 })).release();
    const st = fs.lstatSync(file);
    expect([st.isFile(), st.mode & 0o777, st.uid]).toEqual([true, 0o600, process.getuid?.()]);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('mode.lock'))).toEqual(['mode.lock']);
    fs.chmodSync(file, 0o644);
    (await acquireProcessLock(file, { waitMs: 0 })).release();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    const target = path.join(dir, 'target');
    fs.writeFileSync(target, '');
    const link = path.join(dir, 'link.lock');
    fs.symlinkSync(target, link);
    await expect(acquireProcessLock(link, { waitMs: 0 })).rejects.toThrow(
      `lock file ${link} is not a regular file`,
    );
    const sub = path.join(dir, 'dir.lock');
    fs.mkdirSync(sub);
    await expect(acquireProcessLock(sub, { waitMs: 0 })).rejects.toThrow(
      `lock file ${sub} is not a regular file`,
    );
    if (process.getuid?.() === 0) {
      const foreign = path.join(dir, 'foreign.lock');
      fs.writeFileSync(foreign, '', { mode: 0o600 });
      fs.chownSync(foreign, 65534, 65534);
      await expect(acquireProcessLock(foreign, { waitMs: 0 })).rejects.toThrow('is not owned by uid 0');
    }
  });
});

describe('clawdie-host tenant lock', () => {
  it('a provision killed with SIGKILL does not block its tenant; a live one makes the next fail busy', async () => {
    const base = fs.mkdtempSync(path.join(dir, 'host-'));
    const store = path.join(base, 'state', 'tenants.db');
    const config = path.join(base, 'host.json');
    fs.writeFileSync(
      config,
      JSON.stringify({
        store,
        vault: {
          server: 'https://vault.invalid',
          organization: 'Clawdie',
          credentialsFile: path.join(base, 'bw.env'),
          appdataDir: path.join(base, 'bw'),
        },
        hive: { url: 'http://127.0.0.1:9', adminTokenFile: path.join(base, 'hive.token') },
        jails: { backend: 'dir', root: path.join(base, 'jails') },
      }),
      { mode: 0o600 },
    );
    const io = {
      stdout: process.stdout,
      stderr: process.stderr,
      env: {},
      signal: new AbortController().signal,
    };
    const ctx = new HostContext(parseFlags(['--config', config]), io);
    const lockFile = path.join(base, 'state', 'locks', 'acme.lock');
    fs.mkdirSync(path.dirname(lockFile), { recursive: true, mode: 0o700 });
    // the same file withTenantLock takes, held by another process that is then killed
    const h = await holder(lockFile);
    h.child.kill('SIGKILL');
    await h.exited;
    expect(await ctx.withTenantLock('acme', async () => isLockHeld(lockFile))).toBe(true);
    expect(fs.statSync(lockFile).mode & 0o777).toBe(0o600);
    // inside one process too: a second holder of the same tenant waits for the first
    const order: string[] = [];
    await Promise.all([
      ctx.withTenantLock('acme', async () => {
        await new Promise((r) => setTimeout(r, 100));
        order.push('a');
      }),
      ctx.withTenantLock('acme', async () => order.push('b')),
    ]);
    expect(order).toEqual(['a', 'b']);

    // a live holder: the next one waits its bound, then fails with the one-line busy error
    const live = await holder(lockFile);
    let ran = false;
    const err = await ctx
      .withTenantLock(
        'acme',
        async () => {
          ran = true;
        },
        300,
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostError);
    expect([(err as HostError).message, (err as HostError).exitCode, ran]).toEqual([
      'tenant acme is busy (lock not acquired)',
      1,
      false,
    ]);
    expect((err as HostError).cause).toBeInstanceOf(LockBusyError);
    live.child.kill('SIGKILL');
    await live.exited;
    await ctx.close();
  });
});
