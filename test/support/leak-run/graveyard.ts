// Keeps what tests delete under the run's TMPDIR for the final leak scan (DESIGN §9): tests clean
// up their temp roots, so without this the scan at the end would find an empty tree. rm/rmSync
// (callback and promise forms) of a path under <run>/t move it to <run>/g/<pid>-<n>/<same relative
// path> instead — one rename, the path is gone just the same for the test and for the processes
// watching it; unlink copies a regular file there first and then really unlinks it (inode
// semantics kept: hard links, open descriptors). Anything else, or any failure, falls through to
// the real call. The graveyard is removed with the run directory after a clean scan.
import fs from 'node:fs';
import path from 'node:path';
import type { RunLayout } from './layout.ts';

type AnyFn = (...args: unknown[]) => unknown;

export class Graveyard {
  readonly #layout: RunLayout;
  #seq = 0;

  constructor(layout: RunLayout) {
    this.#layout = layout;
  }

  /** The path relative to the temp tree when it lies inside it (the tree itself excluded). */
  #inside(p: unknown): string | undefined {
    if (typeof p !== 'string') return undefined;
    const rel = path.relative(this.#layout.tmp, path.resolve(p));
    return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : undefined;
  }

  #target(rel: string): string {
    this.#seq += 1;
    return path.join(this.#layout.grave, `${process.pid}-${this.#seq}`, rel);
  }

  /** rm semantics by rename: true when moved; false to let the real rm run (and fail as it would). */
  bury(p: unknown, options: unknown): boolean {
    const rel = this.#inside(p);
    if (rel === undefined) return false;
    try {
      const st = fs.lstatSync(p as string);
      const recursive = (options as { recursive?: boolean } | undefined)?.recursive === true;
      if (st.isDirectory() && !recursive) return false;
      const to = this.#target(rel);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.renameSync(p as string, to);
      return true;
    } catch {
      return false;
    }
  }

  /** Before an unlink: a copy of the regular file it removes. */
  keepCopy(p: unknown): void {
    const rel = this.#inside(p);
    if (rel === undefined) return;
    try {
      if (!fs.lstatSync(p as string).isFile()) return;
      const to = this.#target(rel);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(p as string, to);
    } catch {}
  }
}

/** Replaces rm/unlink on node:fs and node:fs/promises (the caller syncs ESM exports). */
export function wrapRemovals(fsMod: Record<string, unknown>, grave: Graveyard): void {
  const promises = fsMod.promises as Record<string, unknown>;
  const rmSync = fsMod.rmSync as AnyFn;
  fsMod.rmSync = function (this: unknown, ...args: unknown[]) {
    if (grave.bury(args[0], args[1])) return undefined;
    return rmSync.apply(this, args);
  };
  const rm = fsMod.rm as AnyFn;
  fsMod.rm = function (this: unknown, ...args: unknown[]) {
    const cb = args.at(-1);
    if (
      typeof cb === 'function' &&
      grave.bury(args[0], typeof args[1] === 'function' ? undefined : args[1])
    ) {
      process.nextTick(cb as AnyFn, null);
      return undefined;
    }
    return rm.apply(this, args);
  };
  const prm = promises.rm as AnyFn;
  promises.rm = function (this: unknown, ...args: unknown[]) {
    if (grave.bury(args[0], args[1])) return Promise.resolve();
    return prm.apply(this, args);
  };
  for (const [obj, name] of [
    [fsMod, 'unlinkSync'],
    [fsMod, 'unlink'],
    [promises, 'unlink'],
  ] as const) {
    const orig = obj[name] as AnyFn;
    obj[name] = function (this: unknown, ...args: unknown[]) {
      grave.keepCopy(args[0]);
      return orig.apply(this, args);
    };
  }
}
