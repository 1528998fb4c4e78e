// The demo's jail roots (dir backend, no root): on top of what the backend creates, the image soul
// layer (image/soul and the skills each agent serves) and a tenant soul layer, made read-only by
// mode (0555 dirs, 0444 files) because the agent refuses image/tenant layers its user could write,
// and the invoking user owns everything here. A lane that renders gets the repo's node_modules
// beside its soul (where @resvg/resvg-js resolves from the skill's script), as a Linux lane would
// have it installed. Also: removing a previous run's roots despite those modes.
import { chmod, cp, lstat, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const IMAGE_SOUL = 'usr/local/share/clawdie/soul';
const TENANT_SOUL = 'usr/local/etc/clawdie/soul';

/** Sets dirs to `dirMode`, files to `fileMode` (keeping the execute bits of scripts); no links followed. */
async function setModes(p: string, dirMode: number, fileMode: number): Promise<void> {
  const st = await lstat(p);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    await chmod(p, dirMode | 0o200); // writable while we walk it
    for (const name of await readdir(p)) await setModes(path.join(p, name), dirMode, fileMode);
    await chmod(p, dirMode);
  } else if (st.isFile()) {
    await chmod(p, st.mode & 0o111 ? fileMode | 0o111 : fileMode);
  }
}

export async function forceRemove(p: string): Promise<void> {
  try {
    await setModes(p, 0o700, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  await rm(p, { recursive: true, force: true });
}

export async function prepareSoul(
  root: string,
  options: { tenant: string; skills: readonly string[]; nodeModules: boolean },
): Promise<void> {
  const image = path.join(root, IMAGE_SOUL);
  await mkdir(path.join(image, 'skills'), { recursive: true });
  await cp(path.join(REPO, 'image/soul'), image, { recursive: true });
  for (const skill of options.skills) {
    await cp(path.join(REPO, 'skills', skill), path.join(image, 'skills', skill), { recursive: true });
  }
  const tenant = path.join(root, TENANT_SOUL);
  await mkdir(tenant, { recursive: true });
  await writeFile(
    path.join(tenant, 'IDENTITY.md'),
    `# ${options.tenant}\n\nYou are the agent of tenant ${options.tenant} in the clawdie demo.\n`,
  );
  await setModes(image, 0o555, 0o444);
  await setModes(tenant, 0o555, 0o444);
  if (options.nodeModules) {
    await symlink(path.join(REPO, 'node_modules'), path.join(root, 'usr/local/share/clawdie/node_modules'));
  }
}
