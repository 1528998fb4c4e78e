// Assembles `<outDir>/image-overlay/`: a ready Bastille template directory (its Bastillefile plus
// the `usr/` tree that its `CP usr /` copies into the jail). In: the repo (image/, skills/) and the
// built agent bundle. Out: the tree below, with explicit modes so the result does not depend on
// the builder's umask. Links anywhere in the copied sources are refused: a link shipped in the
// soul would point wherever the jail's root wants.
//
//   Bastillefile
//   usr/local/libexec/clawdie/clawdie-agent.mjs     0555  the agent bundle
//   usr/local/etc/rc.d/clawdie_agent                0555  the rc.d script
//   usr/local/share/clawdie/soul/                   0755  image soul layer (image/soul/*)
//   usr/local/share/clawdie/soul/skills/<name>/     0755  skills/ of the repo
import { chmod, copyFile, lstat, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

export const OVERLAY_DIR = 'image-overlay';
export const JAIL_BUNDLE = 'usr/local/libexec/clawdie/clawdie-agent.mjs';
export const JAIL_RCD = 'usr/local/etc/rc.d/clawdie_agent';
export const JAIL_SOUL = 'usr/local/share/clawdie/soul';

/** Files that never ship: tests, editor and VCS droppings. */
export function shipsInImage(name: string): boolean {
  return !name.startsWith('.') && !/\.test\.[cm]?[jt]s$/.test(name) && name !== 'node_modules';
}

export class OverlayError extends Error {}

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
  dir: string;
  skillFiles: number;
  soulFiles: number;
}

export async function assembleOverlay(opts: {
  repoRoot: string;
  outDir: string;
  agentBundle: string;
}): Promise<OverlayResult> {
  const dir = path.join(opts.outDir, OVERLAY_DIR);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  const image = path.join(opts.repoRoot, 'image');
  await installFile(
    path.join(image, 'bastille/clawdie-agent/Bastillefile'),
    path.join(dir, 'Bastillefile'),
    0o644,
  );
  await installFile(opts.agentBundle, path.join(dir, JAIL_BUNDLE), 0o555);
  await installFile(path.join(image, 'rc.d/clawdie_agent'), path.join(dir, JAIL_RCD), 0o555);

  const soul = path.join(dir, JAIL_SOUL);
  const soulSrc = path.join(image, 'soul');
  const soulFiles = (await exists(soulSrc)) ? await copyTree(soulSrc, soul) : 0;
  const skillsSrc = path.join(opts.repoRoot, 'skills');
  const skills = path.join(soul, 'skills');
  const skillFiles = (await exists(skillsSrc)) ? await copyTree(skillsSrc, skills) : 0;
  await mkdir(skills, { recursive: true, mode: 0o755 });
  // Every directory on the way down must be 0755 too, whatever the umask made of the mkdirs.
  for (let d = skills; d.startsWith(dir) && d !== dir; d = path.dirname(d)) await chmod(d, 0o755);
  for (const f of [JAIL_BUNDLE, JAIL_RCD]) {
    for (let d = path.dirname(path.join(dir, f)); d !== dir; d = path.dirname(d)) await chmod(d, 0o755);
  }
  return { dir, skillFiles, soulFiles };
}
