// A cross-process lock that dies with its holder, used for the per-tenant lock and the bw appdata
// lock. Input: a lock file path (in a root-only dir) and a wait bound; output: a held lock to
// release, or LockBusyError once the bound has passed with another holder still alive.
//
// Why SQLite: Node has no flock(), and a lockfile that goes stale by time blocks everyone for the
// stale time after a kill -9. SQLite's unix VFS takes POSIX record locks (fcntl), which the kernel
// drops when the holding process dies — on Linux and FreeBSD alike, no /proc. `BEGIN EXCLUSIVE` on
// an empty database takes the exclusive lock and writes nothing (no journal, the file stays 0 bytes).
// SQLite also tracks the locks of its connections inside one process, so two holders in the same
// process conflict too (POSIX record locks alone would not see each other there). Waiting is a
// polling loop with a zero busy timeout, so a waiter never blocks the event loop (which would keep
// an in-process holder from ever releasing).
//
// One rule keeps POSIX semantics safe: nothing but SQLite opens an existing lock file, because
// closing any descriptor of a file drops all of the process's record locks on it. Creation uses
// O_EXCL (a new inode nobody holds); every check after that goes by path (lstat, chmod).
import fs from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';
import { ClawdieError } from '../../src/errors.ts';
import { loadSqlite } from './load.ts';

export interface ProcessLock {
  readonly file: string;
  /** Drops the lock (idempotent). */
  release(): void;
}

export interface LockWait {
  /** How long to wait for a live holder before LockBusyError; 0 tries once. */
  waitMs: number;
  /** Longest pause between tries (they start at 10 ms and double up to this). */
  pollMs?: number;
}

/** Another live process (or another holder in this process) kept the lock for the whole wait. */
export class LockBusyError extends ClawdieError {
  constructor(file: string, waitMs: number) {
    super(`lock ${file} held by another holder for over ${waitMs} ms`, { kind: 'retryable' });
  }
}

const SQLITE_BUSY = 5;
const FIRST_POLL_MS = 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Creates the lock file 0600 if missing; refuses anything but a regular file of ours. */
export function prepareLockFile(file: string): void {
  try {
    fs.closeSync(
      fs.openSync(
        file,
        fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_RDWR | fs.constants.O_NOFOLLOW,
        0o600,
      ),
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw lockFileError(file, 'cannot be created', err);
  }
  const st = fs.lstatSync(file);
  if (!st.isFile()) throw lockFileError(file, 'is not a regular file');
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw lockFileError(file, `is not owned by uid ${uid}`);
  if ((st.mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
}

function lockFileError(file: string, what: string, cause?: unknown): ClawdieError {
  return new ClawdieError(`lock file ${file} ${what}`, { cause });
}

const isBusy = (err: unknown): boolean => (err as { errcode?: number }).errcode === SQLITE_BUSY;

/** One try on an open connection: true if the exclusive lock is now ours. */
function tryExclusive(db: DatabaseSync): boolean {
  try {
    db.exec('BEGIN EXCLUSIVE');
    return true;
  } catch (err) {
    if (isBusy(err)) return false;
    throw err;
  }
}

/** Takes the lock, waiting up to `wait.waitMs` for a live holder; a dead holder's lock is free at once. */
export async function acquireProcessLock(file: string, wait: LockWait): Promise<ProcessLock> {
  const { DatabaseSync } = await loadSqlite();
  prepareLockFile(file);
  const db = new DatabaseSync(file, { timeout: 0 });
  const deadline = Date.now() + wait.waitMs;
  let pause = FIRST_POLL_MS;
  try {
    while (!tryExclusive(db)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new LockBusyError(file, wait.waitMs);
      await sleep(Math.min(pause, left));
      pause = Math.min(pause * 2, wait.pollMs ?? 250);
    }
  } catch (err) {
    db.close();
    throw err;
  }
  let held = true;
  return {
    file,
    release: () => {
      if (!held) return;
      held = false;
      try {
        db.exec('ROLLBACK');
      } finally {
        db.close();
      }
    },
  };
}

/**
 * Runs `fn` holding the lock; the lock is released however `fn` ends. `acquireFailed` turns a lock
 * not taken (busy past the wait, or an unusable lock file) into the caller's own error.
 */
export async function withProcessLock<T>(
  file: string,
  wait: LockWait,
  fn: () => Promise<T>,
  acquireFailed: (err: unknown) => Error = (err) => err as Error,
): Promise<T> {
  let lock: ProcessLock;
  try {
    lock = await acquireProcessLock(file, wait);
  } catch (err) {
    throw acquireFailed(err);
  }
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** Whether someone holds the lock now (a probe for tests and diagnostics; a missing file is free). */
export async function isLockHeld(file: string): Promise<boolean> {
  if (!fs.existsSync(file)) return false;
  try {
    (await acquireProcessLock(file, { waitMs: 0 })).release();
    return false;
  } catch (err) {
    if (err instanceof LockBusyError) return true;
    throw err;
  }
}
