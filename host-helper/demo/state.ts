// The demo's local state: a private directory (0700) and the hive admin token in a 0600 file,
// generated on first use and reused after (refused if someone loosened its mode or linked it),
// plus a 0600 header file for `curl -H @file`.
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, readFile, rm } from 'node:fs/promises';
import { HostError, usageError } from '../exit-codes.ts';

export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  const st = await lstat(path);
  if (!st.isDirectory()) throw usageError(`${path}: not a directory`);
  if ((st.mode & 0o077) !== 0) await chmod(path, 0o700);
}

/** Returns the token file's path, creating it (O_EXCL, 0600) with `mint()` when missing. */
export async function ensureAdminToken(path: string, mint: () => string): Promise<string> {
  try {
    const fh = await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      await fh.writeFile(`${mint()}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return path;
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') {
      throw new HostError(`${path}: cannot create the admin token file`, 1, { cause: err });
    }
  }
  const st = await lstat(path);
  if (!st.isFile() || (st.mode & 0o077) !== 0) {
    throw usageError(`${path}: must be a regular file of mode 0600; remove it to get a new one`);
  }
  return path;
}

/** Writes `Authorization: Bearer <token>` to a fresh 0600 file, for `curl -H @file`. */
export async function writeHeaderFile(path: string, tokenFile: string): Promise<void> {
  const token = (await readFile(tokenFile, 'utf8')).trim();
  await rm(path, { force: true });
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const fh = await open(path, flags, 0o600);
  try {
    await fh.writeFile(`Authorization: Bearer ${token}\n`);
  } finally {
    await fh.close();
  }
}
