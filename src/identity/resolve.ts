// Resolves the layered soul (DESIGN §7): SOUL.md, IDENTITY.md, AGENTS.md, USER.md from the image,
// tenant and agent layers, the higher layer winning per file. I/O: lstat/read of the layer files,
// synchronous (a dozen small calls at boot, each cheaper than a thread-pool round trip).
// Refuses links, oversized files and read-only layers the agent's user could change: the layer
// directory, its soul files, and every parent up to the root (a writable parent would let it rename
// the layer away, or create a missing one, and plant its own soul). A warning instead when running
// as root, as in development and CI. Returns the files and their hash.
import { lstatSync, readFileSync, type Stats, statSync } from 'node:fs';
import path from 'node:path';
import type { LayerName, SoulLayer } from '../config/paths.ts';
import { ClawdieError } from '../errors.ts';
import { identityHash } from './hash.ts';
import { type ChainEntry, controlledBy, type Principal, swappableVia } from './writable.ts';

const SOUL_FILES = ['SOUL.md', 'IDENTITY.md', 'AGENTS.md', 'USER.md'] as const;
const DEFAULT_LIMITS = { perFileBytes: 64 * 1024, totalBytes: 256 * 1024 };

export class IdentityError extends ClawdieError {}

export interface SoulFile {
  name: string;
  layer: LayerName;
  bytes: number;
}

export interface Identity {
  hash: string;
  files: SoulFile[];
  /** The winning contents by file name, for prompt skills. */
  texts: Record<string, string>;
  warnings: string[];
}

export interface ResolveOptions {
  layers: readonly SoulLayer[];
  principal: Principal;
  /** Where the parents checked stop (the jail root, `--root`); default `/`. */
  root?: string;
  limits?: { perFileBytes: number; totalBytes: number };
}

function lstatOrNull(p: string, follow = false): Stats | null {
  try {
    return follow ? statSync(p) : lstatSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new IdentityError(`soul path ${p} cannot be examined (${code ?? 'error'})`, { cause: err });
  }
}

/** A layer's directory and its parents up to `root` (inclusive), each lstat'ed once per resolve. */
function layerChain(dir: string, root: string, cache: Map<string, Stats | null>): ChainEntry[] {
  const paths = [dir];
  for (let d = dir; d !== root && path.dirname(d) !== d; ) {
    d = path.dirname(d);
    paths.push(d);
  }
  return paths.map((p) => {
    // The root itself is followed: a link there is the operator's choice, not the agent's.
    const s = cache.has(p) ? (cache.get(p) ?? null) : lstatOrNull(p, p === root);
    cache.set(p, s);
    return { path: p, st: s && { uid: s.uid, gid: s.gid, mode: s.mode, link: s.isSymbolicLink() } };
  });
}

/** One line: the first few paths, then how many more. */
function listPaths(paths: string[]): string {
  const shown = paths.slice(0, 4).join(', ');
  return paths.length > 4 ? `${shown} and ${paths.length - 4} more` : shown;
}

export async function resolveIdentity(options: ResolveOptions): Promise<Identity> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const root = path.resolve(options.root ?? '/');
  const who = options.principal;
  const asRoot = who.uid === 0;
  const statCache = new Map<string, Stats | null>();
  const warnings: string[] = [];
  const winners = new Map<string, { layer: SoulLayer; file: string; st: Stats }>();
  for (const layer of options.layers) {
    const dirSt = lstatOrNull(layer.dir);
    if (!dirSt) {
      // A missing layer is fine unless the agent could create it: checked only when that can be
      // refused (root can create anything; warning about every absent layer would be noise).
      if (!layer.readOnly || asRoot) continue;
      const via = swappableVia(layerChain(layer.dir, root, statCache), who);
      if (via.length > 0) {
        throw new IdentityError(
          `soul layer ${layer.name} (${layer.dir}) is missing and the agent's user could create it (${listPaths(via)}); its parents must be read-only to the agent`,
        );
      }
      continue;
    }
    if (!dirSt.isDirectory())
      throw new IdentityError(`soul layer ${layer.name} (${layer.dir}) is not a directory`);
    const checks: Array<[string, Stats]> = [[layer.dir, dirSt]];
    for (const name of SOUL_FILES) {
      const file = path.join(layer.dir, name);
      const st = lstatOrNull(file);
      if (!st) continue;
      if (st.isSymbolicLink()) throw new IdentityError(`soul file ${layer.name}/${name} is a symbolic link`);
      if (!st.isFile()) throw new IdentityError(`soul file ${layer.name}/${name} is not a regular file`);
      if (st.size > limits.perFileBytes) {
        throw new IdentityError(
          `soul file ${layer.name}/${name} is ${st.size} bytes; the limit is ${limits.perFileBytes}`,
        );
      }
      checks.push([file, st]);
      winners.set(name, { layer, file, st });
    }
    if (!layer.readOnly) continue;
    statCache.set(layer.dir, dirSt);
    const writable = checks.filter(([, st]) => controlledBy(st, who)).map(([p]) => p);
    writable.push(...swappableVia(layerChain(layer.dir, root, statCache), who));
    if (writable.length === 0) continue;
    const what = `soul layer ${layer.name} is writable by the agent's user (${listPaths(writable)})`;
    if (!asRoot) throw new IdentityError(`${what}; it must be read-only to the agent`);
    warnings.push(`${what}; allowed only because the agent runs as root (development)`);
  }

  const entries = [];
  const files: SoulFile[] = [];
  const texts: Record<string, string> = {};
  let total = 0;
  for (const name of SOUL_FILES) {
    const w = winners.get(name);
    if (!w) continue;
    const content = readFileSync(w.file);
    if (content.length > limits.perFileBytes) {
      throw new IdentityError(
        `soul file ${w.layer.name}/${name} is ${content.length} bytes; the limit is ${limits.perFileBytes}`,
      );
    }
    total += content.length;
    if (total > limits.totalBytes) {
      throw new IdentityError(`the soul files total more than ${limits.totalBytes} bytes`);
    }
    entries.push({ layer: w.layer.name, path: name, content });
    files.push({ name, layer: w.layer.name, bytes: content.length });
    texts[name] = content.toString('utf8');
  }
  return { hash: identityHash(entries), files, texts, warnings };
}

/** The agent process as a principal (uid and all its groups). */
export function currentPrincipal(): Principal {
  const uid = process.getuid?.() ?? 0;
  const gids = process.getgroups?.() ?? [];
  const gid = process.getgid?.();
  return { uid, gids: gid === undefined ? gids : [gid, ...gids] };
}
