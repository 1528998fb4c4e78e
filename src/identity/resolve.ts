// Resolves the layered soul (DESIGN §7): SOUL.md, IDENTITY.md, AGENTS.md, USER.md from the image,
// tenant and agent layers, the higher layer winning per file. I/O: lstat/read of the layer files.
// Refuses links, oversized files and read-only layers the agent's user could write (a warning
// instead when running as root, as in development and CI). Returns the files and their hash.
import type { Stats } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LayerName, SoulLayer } from '../config/paths.ts';
import { ClawdieError } from '../errors.ts';
import { identityHash } from './hash.ts';
import { type Principal, writableBy } from './writable.ts';

export const SOUL_FILES = ['SOUL.md', 'IDENTITY.md', 'AGENTS.md', 'USER.md'] as const;
export const DEFAULT_LIMITS = { perFileBytes: 64 * 1024, totalBytes: 256 * 1024 };

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
  limits?: { perFileBytes: number; totalBytes: number };
}

async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await lstat(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new IdentityError(`soul path ${p} cannot be examined (${code ?? 'error'})`, { cause: err });
  }
}

export async function resolveIdentity(options: ResolveOptions): Promise<Identity> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const warnings: string[] = [];
  const winners = new Map<string, { layer: SoulLayer; file: string; st: Stats }>();
  for (const layer of options.layers) {
    const dirSt = await lstatOrNull(layer.dir);
    if (!dirSt) continue;
    if (!dirSt.isDirectory())
      throw new IdentityError(`soul layer ${layer.name} (${layer.dir}) is not a directory`);
    const checks: Array<[string, Stats]> = [[layer.dir, dirSt]];
    for (const name of SOUL_FILES) {
      const file = path.join(layer.dir, name);
      const st = await lstatOrNull(file);
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
    const writable = checks.filter(([, st]) => writableBy(st, options.principal)).map(([p]) => p);
    if (writable.length === 0) continue;
    const what = `soul layer ${layer.name} is writable by the agent's user (${writable.join(', ')})`;
    if (options.principal.uid !== 0) throw new IdentityError(`${what}; it must be read-only to the agent`);
    warnings.push(`${what}; allowed only because the agent runs as root (development)`);
  }

  const entries = [];
  const files: SoulFile[] = [];
  const texts: Record<string, string> = {};
  let total = 0;
  for (const name of SOUL_FILES) {
    const w = winners.get(name);
    if (!w) continue;
    const content = await readFile(w.file);
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
