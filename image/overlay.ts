// Assembles what `clawdie-host body install` and Bastille take from the build (DESIGN §11):
//   <outDir>/body/            the body without its runtime (host-helper/body/layout.ts):
//     libexec/clawdie-agent.mjs   0555  the agent bundle
//     libexec/boot.sh             0555  Linux: pid 1 of a jail
//     etc/rc.d/clawdie_agent      0555  FreeBSD: the rc.d script
//     soul/                       0755  image soul layer (image/soul/*)
//     soul/skills/<name>/         0755  skills/ of the repo
//   <outDir>/image-overlay/Bastillefile  the Bastille template (it mounts a body; it copies nothing)
// In: the repo (image/, skills/) and the built agent bundle. Out: those trees, with explicit modes
// so the result does not depend on the builder's umask. Links anywhere in the copied sources are
// refused: a link shipped in the soul would point wherever the jail's root wants.
//
// A jail has node and the bundle, no node_modules: a skill whose scripts import an npm package
// (image-render needs @resvg/resvg-js) could not run there, yet its capability would be announced
// and tasks routed to it. Such skills stay out of the jail image and are reported; they belong to
// the Linux lanes that install their packages.
import { chmod, copyFile, lstat, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import path from 'node:path';

import { BODY } from '../host-helper/body/layout.ts';

export const OVERLAY_DIR = 'image-overlay';
/** The body as the build leaves it (`clawdie-host body install --from dist/body` adds the runtime). */
export const BODY_SOURCE_DIR = 'body';

/** Files that never ship: tests, editor and VCS droppings. */
export function shipsInImage(name: string): boolean {
  return !name.startsWith('.') && !/\.test\.[cm]?[jt]s$/.test(name) && name !== 'node_modules';
}

export class OverlayError extends Error {}

/** Pure: the bare package names a script imports (static, dynamic or require), builtins excluded. */
export function foreignImports(source: string): string[] {
  const ids = new Set<string>();
  const patterns = [
    /^\s*import\s[^;]*?from\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) {
    for (const m of source.matchAll(re)) {
      const id = m[1] ?? '';
      if (id === '' || id.startsWith('.') || id.startsWith('/') || isBuiltin(id)) continue;
      ids.add(id.startsWith('@') ? id.split('/').slice(0, 2).join('/') : (id.split('/')[0] ?? id));
    }
  }
  return [...ids].sort();
}

/** The npm packages the scripts of one skill folder need. */
async function skillPackages(dir: string): Promise<string[]> {
  const found = new Set<string>();
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !/\.[cm]?js$/.test(e.name)) continue;
    for (const id of foreignImports(await readFile(path.join(e.parentPath, e.name), 'utf8'))) found.add(id);
  }
  return [...found].sort();
}

/** Copies a tree with dirs 0755, files 0644 (0755 when the source is executable); refuses links. */
async function copyTree(from: string, to: string): Promise<number> {
  let files = 0;
  await mkdir(to, { recursive: true, mode: 0o755 });
  await chmod(to, 0o755);
  for (const name of (await readdir(from)).sort()) {
    if (!shipsInImage(name)) continue;
    const src = path.join(from, name);
    const dst = path.join(to, name);
    const st = await lstat(src);
    if (st.isSymbolicLink()) throw new OverlayError(`refusing to ship a symbolic link: ${src}`);
    if (st.isDirectory()) {
      files += await copyTree(src, dst);
    } else if (st.isFile()) {
      await copyFile(src, dst);
      await chmod(dst, st.mode & 0o111 ? 0o755 : 0o644);
      files += 1;
    } else {
      throw new OverlayError(`refusing to ship a special file: ${src}`);
    }
  }
  return files;
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

async function installFile(src: string, dst: string, mode: number): Promise<void> {
  await mkdir(path.dirname(dst), { recursive: true, mode: 0o755 });
  await copyFile(src, dst);
  await chmod(dst, mode);
}

export interface OverlayResult {
  /** The Bastille template directory. */
  dir: string;
  /** The body source directory. */
  bodyDir: string;
  skillFiles: number;
  soulFiles: number;
  /** Skills left out of the jail image because their scripts import npm packages. */
  skipped: { skill: string; packages: string[] }[];
}

export async function assembleOverlay(opts: {
  repoRoot: string;
  outDir: string;
  agentBundle: string;
}): Promise<OverlayResult> {
  const dir = path.join(opts.outDir, OVERLAY_DIR);
  const body = path.join(opts.outDir, BODY_SOURCE_DIR);
  for (const d of [dir, body]) {
    await rm(d, { recursive: true, force: true });
    await mkdir(d, { recursive: true, mode: 0o755 });
    await chmod(d, 0o755);
  }
  const image = path.join(opts.repoRoot, 'image');
  await installFile(
    path.join(image, 'bastille/clawdie-agent/Bastillefile'),
    path.join(dir, 'Bastillefile'),
    0o644,
  );
  await installFile(opts.agentBundle, path.join(body, BODY.bundle), 0o555);
  await installFile(path.join(image, 'linux/boot.sh'), path.join(body, BODY.boot), 0o555);
  await installFile(path.join(image, 'rc.d/clawdie_agent'), path.join(body, BODY.rcd), 0o555);

  const soul = path.join(body, BODY.soul);
  const soulSrc = path.join(image, 'soul');
  const soulFiles = (await exists(soulSrc)) ? await copyTree(soulSrc, soul) : 0;
  const skillsSrc = path.join(opts.repoRoot, 'skills');
  const skills = path.join(soul, 'skills');
  await mkdir(skills, { recursive: true, mode: 0o755 });
  let skillFiles = 0;
  const skipped: OverlayResult['skipped'] = [];
  const entries = (await exists(skillsSrc)) ? await readdir(skillsSrc, { withFileTypes: true }) : [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!shipsInImage(e.name)) continue;
    if (!e.isDirectory()) throw new OverlayError(`skills/ holds only skill folders: ${e.name}`);
    const packages = await skillPackages(path.join(skillsSrc, e.name));
    if (packages.length > 0) skipped.push({ skill: e.name, packages });
    else skillFiles += await copyTree(path.join(skillsSrc, e.name), path.join(skills, e.name));
  }
  // Every directory on the way down must be 0755 too, whatever the umask made of the mkdirs.
  for (let d = skills; d.startsWith(body) && d !== body; d = path.dirname(d)) await chmod(d, 0o755);
  for (const f of [BODY.bundle, BODY.boot, BODY.rcd]) {
    for (let d = path.dirname(path.join(body, f)); d !== body; d = path.dirname(d)) await chmod(d, 0o755);
  }
  return { dir, bodyDir: body, skillFiles, soulFiles, skipped };
}
