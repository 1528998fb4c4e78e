// The host-side safe writer for a STOPPED jail or the dir backend (DESIGN §6): writes, inspects and
// removes <jails root>/<jail>/root/home/<user>/.env without ever following a link or leaving the
// jail root. Every directory is opened no-follow relative to its verified parent (dirfd.ts); the
// temp file is created O_CREAT|O_EXCL|O_NOFOLLOW 0600 inside the verified directory, fchown'd and
// fsync'd, renamed over .env within that same directory, the directory fsync'd, and then both the
// chain and the new file are re-checked by dev/ino. We only ever chmod/chown our own descriptor, so
// no planted name can redirect a chmod or chown. A kill at any point leaves the old or the new .env
// (rename is atomic) plus at most a stale temp, which the next write removes. Every fs call goes
// through fsStep: a race or plant by the jail is an UnsafePathError ("refused: <path> …"), any other
// fs failure an EnvFileError naming the step; no raw errno leaves this module.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { MAX_ENV_BYTES } from '../../src/secrets/env-schema.ts';
import {
  at,
  closeQuietly,
  type DirHandle,
  dirPath,
  hostName,
  UnsafePathError,
  verifyChain,
  withDir,
} from '../jailfs/dirfd.ts';
import { fsError, fsStep, isJailCaused } from '../jailfs/fs-errors.ts';
import { sha256 } from './render.ts';

const C = fs.constants;
const TEMP_PREFIX = '.env.clawdie-';
const TEMP_RE = /^\.env\.clawdie-[0-9a-f]{16}$/;

export interface EnvLocation {
  /** The host-owned directory that holds <jail>/root (canonicalized before use). */
  jailsRoot: string;
  jail: string;
  user: string;
}

export interface Owner {
  uid: number;
  gid: number;
}

export type EnvState =
  | { kind: 'missing' }
  | { kind: 'not-regular'; what: 'symlink' | 'other' }
  | {
      kind: 'file';
      mode: number;
      uid: number;
      gid: number;
      nlink: number;
      dev: number;
      ino: number;
      sha256: string;
    };

/** The path components from the jails root down to the directory holding .env. */
export const envDirComponents = (loc: EnvLocation): string[] => [loc.jail, 'root', 'home', loc.user];

function withEnvDir<T>(loc: EnvLocation, fn: (dir: DirHandle, chain: DirHandle[]) => T): T {
  return withDir(loc.jailsRoot, envDirComponents(loc), fn);
}

/** Reads a regular file by descriptor (never a FIFO or device: O_NONBLOCK + fstat first). */
export function inspectAt(dir: DirHandle, name: string): EnvState {
  // lstat first so a planted device or FIFO is normally not even opened; fstat re-checks after.
  const where = hostName(dir, name);
  const pre = fsStep(where, 'inspecting', 'jail', () =>
    fs.lstatSync(at(dir, name), { throwIfNoEntry: false }),
  );
  if (pre === undefined) return { kind: 'missing' };
  if (pre.isSymbolicLink()) return { kind: 'not-regular', what: 'symlink' };
  if (!pre.isFile()) return { kind: 'not-regular', what: 'other' };
  let fd: number;
  try {
    fd = fs.openSync(at(dir, name), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    if (code === 'ELOOP' || code === 'EMLINK') return { kind: 'not-regular', what: 'symlink' };
    if (!isJailCaused(err)) throw fsError(err, where, 'opening for inspection', 'host');
    return { kind: 'not-regular', what: 'other' };
  }
  try {
    const st = fsStep(where, 'inspecting the opened file', 'host', () => fs.fstatSync(fd));
    if (!st.isFile()) return { kind: 'not-regular', what: 'other' };
    // Larger than the agent takes: not a file we wrote (and not read into memory).
    if (st.size > MAX_ENV_BYTES) return { kind: 'not-regular', what: 'other' };
    const data = fsStep(where, 'reading', 'host', () => fs.readFileSync(fd));
    return {
      kind: 'file',
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      nlink: st.nlink,
      dev: st.dev,
      ino: st.ino,
      sha256: sha256(data),
    };
  } finally {
    closeQuietly(fd);
  }
}

export function inspectEnv(loc: EnvLocation): EnvState {
  return withEnvDir(loc, (dir) => inspectAt(dir, '.env'));
}

/** True when the file in place is exactly what we would write: content, 0600, owner, one link. */
export function isInPlace(state: EnvState, owner: Owner, digest: string): boolean {
  return (
    state.kind === 'file' &&
    state.sha256 === digest &&
    state.mode === 0o600 &&
    state.uid === owner.uid &&
    state.gid === owner.gid &&
    state.nlink === 1
  );
}

function removeStaleTemps(dir: DirHandle): void {
  let listing: string[] = [];
  try {
    listing = fs.readdirSync(dirPath(dir)); // through the descriptor: the verified directory only
  } catch {
    return;
  }
  for (const name of listing) {
    if (!TEMP_RE.test(name)) continue;
    try {
      fs.unlinkSync(at(dir, name)); // unlink never follows: removes the name inside the jail only
    } catch {
      // a concurrent cleanup got it
    }
  }
}

function createTemp(dir: DirHandle): { fd: number; name: string } {
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const name = `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`;
    try {
      const fd = fs.openSync(
        at(dir, name),
        C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY,
        0o600,
      );
      return { fd, name };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw fsError(err, hostName(dir, name), 'creating the temp file', 'jail');
      }
    }
  }
  throw new UnsafePathError(
    `refused: ${hostName(dir, TEMP_PREFIX)}… temp names keep colliding (planted files?)`,
  );
}

/** Writes .env atomically; returns the new file's identity. Throws UnsafePathError on any doubt. */
export function safeWriteEnv(loc: EnvLocation, owner: Owner, content: string): { dev: number; ino: number } {
  return withEnvDir(loc, (dir, chain) => {
    removeStaleTemps(dir);
    const { fd, name } = createTemp(dir);
    const temp = hostName(dir, name);
    const env = hostName(dir, '.env');
    let renamed = false;
    try {
      // Owner and mode go on the descriptor we created: nothing else can be chown'd or chmod'd. These
      // calls touch only our descriptor, so a failure is the host's (EIO, ENOSPC), not a jail's plant.
      const mine = fsStep(temp, 'writing the temp file', 'host', () => {
        fs.fchownSync(fd, owner.uid, owner.gid);
        fs.fchmodSync(fd, 0o600);
        fs.writeFileSync(fd, content);
        fs.fsyncSync(fd);
        return fs.fstatSync(fd);
      });
      verifyChain(chain);
      // A directory planted at .env (EISDIR), the temp name removed (ENOENT), …: refused.
      fsStep(env, 'renaming the new file into place', 'jail', () =>
        fs.renameSync(at(dir, name), at(dir, '.env')),
      );
      renamed = true;
      fsStep(hostName(dir, '.'), 'syncing the directory', 'host', () => fs.fsyncSync(dir.fd));
      const placed = fs.lstatSync(at(dir, '.env'), { throwIfNoEntry: false });
      if (placed === undefined)
        throw new UnsafePathError(`refused: ${env} was removed right after the write`);
      if (placed.isSymbolicLink() || placed.dev !== mine.dev || placed.ino !== mine.ino) {
        throw new UnsafePathError(`refused: ${env} was replaced right after the write`);
      }
      verifyChain(chain);
      return { dev: mine.dev, ino: mine.ino };
    } catch (err) {
      throw fsError(err, env, 'checking the new file in place', 'jail');
    } finally {
      closeQuietly(fd); // fsync'd already (or abandoned): a failing close changes nothing
      if (!renamed) {
        try {
          fs.unlinkSync(at(dir, name));
        } catch {
          // already gone
        }
      }
    }
  });
}

/** Removes .env (a link planted there is removed, not followed). Missing is fine. */
export function safeRemoveEnv(loc: EnvLocation): boolean {
  return withEnvDir(loc, (dir) => {
    removeStaleTemps(dir);
    const env = hostName(dir, '.env');
    const st = fsStep(env, 'removing', 'jail', () =>
      fs.lstatSync(at(dir, '.env'), { throwIfNoEntry: false }),
    );
    if (st === undefined) return false;
    if (st.isDirectory()) throw new UnsafePathError(`refused: ${env} is a directory (removing)`);
    try {
      fs.unlinkSync(at(dir, '.env')); // a directory swapped in meanwhile: EISDIR, refused below
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw fsError(err, env, 'removing', 'jail');
    }
    fsStep(hostName(dir, '.'), 'syncing the directory', 'host', () => fs.fsyncSync(dir.fd));
    return true;
  });
}
