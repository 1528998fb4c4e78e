// Whole-file replacement of the agent's small state files (status.json, the agent key, the
// crash-loop record): write a temp file beside the target (O_EXCL|O_NOFOLLOW, so nothing planted
// there is followed or reused), then rename it over the target, so a reader sees the old file or
// the new one, never a part. The directory is made (0700) if missing. In: a path, text, a mode.
import { randomBytes } from 'node:crypto';
import fs, {
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

function tempBeside(file: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}`,
  );
}

/**
 * Synchronous form, for writers that must not yield (status.json on every machine transition) and
 * for boot, where nothing else waits (the agent key). `fsync` as below.
 */
export function replaceFileSync(
  file: string,
  text: string,
  mode: number,
  options: { fsync?: boolean } = {},
): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = tempBeside(file);
  const fd = openSync(tmp, CREATE_NEW, mode);
  try {
    // writeSync may write less than asked (a filling disk) without throwing: write the rest until
    // it is all there or the next write fails, never rename a short file over the old one.
    const bytes = Buffer.from(text, 'utf8');
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
    if (options.fsync) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, file);
}

/**
 * `fsync` makes the content durable before the rename (for files that must survive a power loss).
 * `fs.promises` is read here, not imported: node loads it on first use, and boot writes only with
 * the synchronous form above (~1 ms of the agent's start saved).
 */
export async function replaceFile(
  file: string,
  text: string,
  mode: number,
  options: { fsync?: boolean } = {},
): Promise<void> {
  const { mkdir, open, rename, rm } = fs.promises;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = tempBeside(file);
  const handle = await open(tmp, CREATE_NEW, mode);
  try {
    await handle.writeFile(text);
    if (options.fsync) await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  await rename(tmp, file);
}
