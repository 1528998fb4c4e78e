// The host-side safe writer for a STOPPED jail or the dir backend (DESIGN §6): writes, inspects and
// removes <jails root>/<jail>/root/home/<user>/.env without ever following a link or leaving the
// jail root. Every directory is opened no-follow relative to its verified parent (dirfd.ts); the
// temp file is created O_CREAT|O_EXCL|O_NOFOLLOW 0600 inside the verified directory, fchown'd and
// fsync'd, renamed over .env within that same directory, the directory fsync'd, and then both the
// chain and the new file are re-checked by dev/ino. We only ever chmod/chown our own descriptor, so
// no planted name can redirect a chmod or chown. A kill at any point leaves the old or the new .env
// (rename is atomic) plus at most a stale temp, which the next write removes.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { at, type DirHandle, dirPath, UnsafePathError, verifyChain, withDir } from './dirfd.ts';
import { sha256 } from './render.ts';

const C = fs.constants;
const TEMP_PREFIX = '.env.clawdie-';
const TEMP_RE = /^\.env\.clawdie-[0-9a-f]{16}$/;
const MAX_ENV_BYTES = 1 << 20;

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
  const pre = fs.lstatSync(at(dir, name), { throwIfNoEntry: false });
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
    return { kind: 'not-regular', what: 'other' };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { kind: 'not-regular', what: 'other' };
    if (st.size > MAX_ENV_BYTES) return { kind: 'not-regular', what: 'other' };
    const data = fs.readFileSync(fd);
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
    fs.closeSync(fd);
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
        throw new UnsafePathError('refused: cannot create the temp file in the jail', err);
      }
    }
  }
  throw new UnsafePathError('refused: temp names keep colliding (planted files?)');
}

/** Writes .env atomically; returns the new file's identity. Throws UnsafePathError on any doubt. */
export function safeWriteEnv(loc: EnvLocation, owner: Owner, content: string): { dev: number; ino: number } {
  return withEnvDir(loc, (dir, chain) => {
    removeStaleTemps(dir);
    const { fd, name } = createTemp(dir);
    let renamed = false;
    try {
      // Owner and mode go on the descriptor we created: nothing else can be chown'd or chmod'd.
      fs.fchownSync(fd, owner.uid, owner.gid);
      fs.fchmodSync(fd, 0o600);
      fs.writeFileSync(fd, content);
      fs.fsyncSync(fd);
      const mine = fs.fstatSync(fd);
      verifyChain(chain);
      fs.renameSync(at(dir, name), at(dir, '.env'));
      renamed = true;
      fs.fsyncSync(dir.fd);
      const placed = fs.lstatSync(at(dir, '.env'));
      if (placed.isSymbolicLink() || placed.dev !== mine.dev || placed.ino !== mine.ino) {
        throw new UnsafePathError('refused: .env was replaced right after the write');
      }
      verifyChain(chain);
      return { dev: mine.dev, ino: mine.ino };
    } finally {
      fs.closeSync(fd);
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
    try {
      const st = fs.lstatSync(at(dir, '.env'));
      if (st.isDirectory()) throw new UnsafePathError('refused: .env is a directory');
      fs.unlinkSync(at(dir, '.env'));
      fs.fsyncSync(dir.fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  });
}
