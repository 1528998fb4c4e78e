// Pure checks: could a given user change a file or directory, judged by owner/group/other mode bits
// (root can always write; an owner can always chmod), and could it swap a soul layer away through
// one of its parent directories (rename it, or create a missing one, and plant its own). Used to
// refuse image/tenant soul layers the agent could tamper with.
export interface Principal {
  uid: number;
  gids: readonly number[];
}

export interface OwnedMode {
  uid: number;
  gid: number;
  mode: number;
}

const STICKY = 0o1000;

export function writableBy(st: OwnedMode, who: Principal): boolean {
  if (who.uid === 0) return true;
  if (st.uid === who.uid) return (st.mode & 0o200) !== 0;
  if (who.gids.includes(st.gid)) return (st.mode & 0o020) !== 0;
  return (st.mode & 0o002) !== 0;
}

/** Writable now, or owned (the owner can `chmod u+w` at will). */
export function controlledBy(st: OwnedMode, who: Principal): boolean {
  return st.uid === who.uid || writableBy(st, who);
}

/**
 * Could `who` rename or remove the entry `child` of directory `dir` (or create it, if `child` is
 * null: missing)? A sticky directory (restricted deletion, like /tmp) lets only the owners of the
 * entry or of the directory do that; creating needs only write permission.
 */
export function replaceableBy(dir: OwnedMode, child: OwnedMode | null, who: Principal): boolean {
  if (!controlledBy(dir, who)) return false;
  if (child === null || who.uid === 0 || dir.uid === who.uid) return true;
  return (dir.mode & STICKY) === 0 || child.uid === who.uid;
}

export interface ChainEntry {
  path: string;
  /** null: missing. `link`: a symbolic link (lookups follow it; its target is not judged). */
  st: (OwnedMode & { link: boolean }) | null;
}

/**
 * `chain` is a soul layer's directory, then each parent up to the root (inclusive). Returns, nearest
 * first, the parents through which `who` could put another directory in the layer's place: one that
 * lets it replace (or create) the entry below, or a symbolic link between the layer and the root.
 */
export function swappableVia(chain: readonly ChainEntry[], who: Principal): string[] {
  const found: string[] = [];
  for (let i = 1; i < chain.length; i++) {
    const dir = chain[i]!;
    const child = chain[i - 1]!;
    if (dir.st === null) continue; // judged at the first parent that exists
    if (dir.st.link) found.push(`${dir.path} (symbolic link)`);
    else if (replaceableBy(dir.st, child.st, who)) found.push(`${dir.path} (parent directory)`);
  }
  return found;
}
