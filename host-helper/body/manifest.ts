// A body's manifest.json: what the version holds (every file's path, mode, size and SHA-256, every
// link's target) and what it was made of (agent and node versions, platform). The version's name
// is derived from the content, so the same build installed twice is the same version, and a body
// can be checked against its manifest later. In: a directory tree (lstat, never following a link).
// Out: the manifest; `versionName` is pure.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { BODY, VERSION_RE } from './layout.ts';

export const ManifestEntry = z.union([
  z
    .object({
      path: z.string().min(1),
      mode: z.number().int(),
      size: z.number().int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    })
    .strict(),
  z.object({ path: z.string().min(1), link: z.string().min(1) }).strict(),
  z.object({ path: z.string().min(1), dir: z.literal(true) }).strict(),
]);
export type ManifestEntry = z.infer<typeof ManifestEntry>;

export const Manifest = z
  .object({
    format: z.literal(1),
    version: z.string().regex(VERSION_RE),
    agent: z.string().min(1).max(64),
    node: z.string().min(1).max(64),
    platform: z.string().min(1).max(32),
    arch: z.string().min(1).max(32),
    /** How the runtime was made: copied from the host (Linux) or installed with pkg -r (FreeBSD). */
    runtime: z.enum(['host-copy', 'pkg']),
    entries: z.array(ManifestEntry),
  })
  .strict();
export type Manifest = z.infer<typeof Manifest>;

export class BodyError extends Error {}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every entry under `root` (the manifest itself excluded), in code-unit order of their paths. */
export async function listEntries(root: string): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(path.join(root, rel))).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      if (r === BODY.manifest) continue;
      const abs = path.join(root, r);
      const st = await lstat(abs);
      if (st.isSymbolicLink()) out.push({ path: r, link: await readlink(abs) });
      else if (st.isDirectory()) {
        out.push({ path: r, dir: true });
        await walk(r);
      } else if (st.isFile()) {
        out.push({ path: r, mode: st.mode & 0o7777, size: st.size, sha256: await sha256(abs) });
      } else throw new BodyError(`a body holds files, directories and links only: ${r}`);
    }
  };
  await walk('');
  return out;
}

/** Pure: `<agent>-<12 hex>` over the entries (content, links, modes: what a jail would see). */
export function versionName(agent: string, entries: readonly ManifestEntry[]): string {
  const hash = createHash('sha256');
  for (const e of entries) hash.update(`${JSON.stringify(e)}\n`);
  const name = `${agent}-${hash.digest('hex').slice(0, 12)}`;
  if (!VERSION_RE.test(name))
    throw new BodyError(`agent version ${agent.slice(0, 40)} makes no valid body name`);
  return name;
}

/** Pure: the differences between a manifest and what a tree holds now (empty: it is intact). */
export function compareEntries(
  expected: readonly ManifestEntry[],
  actual: readonly ManifestEntry[],
): string[] {
  const key = (e: ManifestEntry): string => JSON.stringify(e);
  const have = new Map(actual.map((e) => [e.path, key(e)]));
  const want = new Map(expected.map((e) => [e.path, key(e)]));
  const diffs: string[] = [];
  for (const [p, k] of want) {
    if (!have.has(p)) diffs.push(`missing: ${p}`);
    else if (have.get(p) !== k) diffs.push(`changed: ${p}`);
  }
  for (const p of have.keys()) if (!want.has(p)) diffs.push(`added: ${p}`);
  return diffs;
}
