// No-follow directory walking inside a jail root, for the safe writer and the passwd reader
// (DESIGN §6). A jailed root owns everything under its jail root, so every lookup below it must
// neither follow a link nor be redirected by a directory swapped mid-walk.
//
// Node has no openat(2)/renameat(2). On Linux we get the same guarantee through /proc/self/fd/N:
// a path "/proc/self/fd/N/name" resolves N through the kernel's magic link to the very directory
// the descriptor holds (not to whatever path it had when opened), then looks up `name` in it. So
// open/lstat/rename/unlink of "/proc/self/fd/N/name" act on `name` inside the directory we verified,
// exactly like openat(N, name) / renameat(N, a, N, b). With O_NOFOLLOW on the last component no
// link is ever followed, and each directory is opened relative to its verified parent.
//
// Where /proc/self/fd is missing (FreeBSD without linprocfs) we fall back to full host paths and
// check dev/ino of every component before and after. Residual race in that mode only: a process
// that swaps an intermediate directory for a link between our check and a later syscall could
// redirect that syscall. The fallback is used only for STOPPED jails (a running jail is written
// through the jail itself), where no jailed process exists to race; a jail started concurrently
// with a write is the remaining window.
import fs from 'node:fs';
import path from 'node:path';
import { fsError, fsStep, isJailCaused, UnsafePathError } from './fs-errors.ts';

export { UnsafePathError };

const C = fs.constants;
const COMPONENT_RE = /^[A-Za-z0-9._-]{1,255}$/;

export const PROC_FD_MODE = ((): boolean => {
  try {
    // The magic link of an open descriptor must resolve to the directory itself.
    const fd = fs.openSync('/', C.O_RDONLY | C.O_DIRECTORY);
    try {
      return fs.statSync(`/proc/self/fd/${fd}/.`).ino === fs.fstatSync(fd).ino;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
})();

export interface DirHandle {
  readonly fd: number;
  readonly dev: number;
  readonly ino: number;
  /** Host path as walked; for messages, and the path used in fallback mode. */
  readonly hostPath: string;
  /** The parent and name this directory was opened from (undefined for the walk's start). */
  readonly parent?: DirHandle;
  readonly name?: string;
}

/** A single path component we are willing to look up: no separators, no "." or "..". */
export function assertComponent(name: string): void {
  if (!COMPONENT_RE.test(name) || name === '.' || name === '..') {
    throw new UnsafePathError('refused: unsafe path component');
  }
}

/** The path naming `name` inside `dir`, resolved through the descriptor when the OS allows. */
export function at(dir: DirHandle, name: string): string {
  assertComponent(name);
  return PROC_FD_MODE ? `/proc/self/fd/${dir.fd}/${name}` : path.join(dir.hostPath, name);
}

/** The directory itself, for listing it through its descriptor. */
export const dirPath = (dir: DirHandle): string => (PROC_FD_MODE ? `/proc/self/fd/${dir.fd}` : dir.hostPath);

const describe = (p: string): string => p.replace(/[^\x20-\x7e]/g, '?');

/** The printable host path of `name` inside `dir`, for messages. */
export const hostName = (dir: DirHandle, name: string): string => describe(path.join(dir.hostPath, name));

/** Opens the trusted starting directory (the host-owned jails dir), canonicalized first. */
export function openStart(dir: string): DirHandle {
  // The jails dir is the host's own: whatever goes wrong here is a failure, not a jail's plant.
  return fsStep(describe(dir), 'opening the jails directory', 'host', () => {
    const real = fs.realpathSync(dir);
    const fd = fs.openSync(real, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
    try {
      const st = fs.fstatSync(fd);
      return { fd, dev: st.dev, ino: st.ino, hostPath: real };
    } catch (err) {
      closeQuietly(fd);
      throw err;
    }
  });
}

/** lstat, open no-follow, fstat: the three must agree or the component changed under us. */
export function openChild(dir: DirHandle, name: string): DirHandle {
  const p = at(dir, name);
  const where = describe(path.join(dir.hostPath, name));
  let before: fs.Stats;
  try {
    before = fs.lstatSync(p);
  } catch (err) {
    if (!isJailCaused(err)) throw fsError(err, where, 'looking up a directory', 'host');
    throw new UnsafePathError(`refused: ${where} is missing`, err);
  }
  if (before.isSymbolicLink()) throw new UnsafePathError(`refused: ${where} is a symbolic link`);
  if (!before.isDirectory()) throw new UnsafePathError(`refused: ${where} is not a directory`);
  let fd: number;
  try {
    fd = fs.openSync(p, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW | C.O_NONBLOCK);
  } catch (err) {
    if (!isJailCaused(err)) throw fsError(err, where, 'opening a directory', 'host');
    throw new UnsafePathError(`refused: ${where} changed while opening it`, err);
  }
  let st: fs.Stats;
  try {
    st = fs.fstatSync(fd);
  } catch (err) {
    closeQuietly(fd);
    throw fsError(err, where, 'checking an opened directory', 'host');
  }
  if (st.dev !== before.dev || st.ino !== before.ino || !st.isDirectory()) {
    closeQuietly(fd);
    throw new UnsafePathError(`refused: ${where} was swapped while opening it`);
  }
  return { fd, dev: st.dev, ino: st.ino, hostPath: path.join(dir.hostPath, name), parent: dir, name };
}

/** Walks `names` below `start`, returning every handle opened (the last is the target directory). */
export function walk(start: DirHandle, names: readonly string[]): DirHandle[] {
  const chain: DirHandle[] = [start];
  try {
    for (const name of names) chain.push(openChild(chain[chain.length - 1] as DirHandle, name));
    return chain;
  } catch (err) {
    closeChain(chain.slice(1));
    throw err;
  }
}

/** Re-checks that every directory of the chain is still where it was found (no swap happened). */
export function verifyChain(chain: readonly DirHandle[]): void {
  for (const dir of chain) {
    if (!dir.parent || dir.name === undefined) continue;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(at(dir.parent, dir.name));
    } catch (err) {
      if (!isJailCaused(err)) throw fsError(err, describe(dir.hostPath), 're-checking a directory', 'host');
      throw new UnsafePathError(`refused: ${describe(dir.hostPath)} disappeared during the write`, err);
    }
    if (st.isSymbolicLink() || st.dev !== dir.dev || st.ino !== dir.ino) {
      throw new UnsafePathError(`refused: ${describe(dir.hostPath)} was swapped during the write`);
    }
  }
}

/** Closes a descriptor we only read through (or already fsync'd): a failing close changes nothing. */
export function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // EIO/EINTR on close: the data was already read or synced
  }
}

export function closeChain(chain: readonly DirHandle[]): void {
  for (const dir of chain) closeQuietly(dir.fd);
}

/** Reads a small regular file inside `dir` without following a link or blocking on a FIFO. */
export function readRegularAt(dir: DirHandle, name: string, maxBytes: number): Buffer {
  const where = describe(path.join(dir.hostPath, name));
  let fd: number;
  try {
    fd = fs.openSync(at(dir, name), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY);
  } catch (err) {
    if (!isJailCaused(err)) throw fsError(err, where, 'opening a file', 'host');
    throw new UnsafePathError(`refused: ${where} cannot be opened without following a link`, err);
  }
  try {
    const st = fsStep(where, 'checking an opened file', 'host', () => fs.fstatSync(fd));
    if (!st.isFile()) throw new UnsafePathError(`refused: ${where} is not a regular file`);
    if (st.size > maxBytes) throw new UnsafePathError(`refused: ${where} is too large`);
    return fsStep(where, 'reading', 'host', () => fs.readFileSync(fd));
  } finally {
    closeQuietly(fd);
  }
}

/** Opens the jails dir and walks `names`, runs fn on the last directory, closes everything. */
export function withDir<T>(
  jailsRoot: string,
  names: readonly string[],
  fn: (dir: DirHandle, chain: DirHandle[]) => T,
): T {
  const start = openStart(jailsRoot);
  let chain: DirHandle[] = [start];
  try {
    chain = walk(start, names);
    return fn(chain[chain.length - 1] as DirHandle, chain);
  } finally {
    closeChain(chain);
  }
}
