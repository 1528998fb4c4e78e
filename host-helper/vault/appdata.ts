// The appdata dir the wrapper owns (DESIGN §6): created 0700 and owned by us, the private 0700 dir
// of a session's serve socket, and the reaping of what a hard-killed session left behind (its
// still-unlocked `bw serve` and socket dir), done under the lock before a new session starts.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VaultError } from './errors.ts';

export function prepareAppdata(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new VaultError(
      'bw_failed',
      `vault.appdataDir ${dir} is not owned by uid ${uid}: chown it or choose another`,
    );
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

export const servePidFile = (appdataDir: string): string => join(appdataDir, 'clawdie-serve.pid');

/**
 * A session killed hard (SIGKILL, power loss) can leave its `bw serve` running — unlocked — and its
 * socket dir behind. Under the lock, before anything else: kill that process group if the recorded
 * pid is still a bw serve (checked with ps, so a reused pid is left alone), and remove the dirs.
 */
export function reapLeftovers(appdataDir: string): void {
  let pid = 0;
  try {
    pid = Number.parseInt(readFileSync(servePidFile(appdataDir), 'utf8'), 10);
  } catch {
    // no leftover
  }
  if (pid > 1) {
    let args = '';
    try {
      args = execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
    } catch {
      // not running
    }
    if (args.includes(' serve ') && args.includes('unix://')) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }
  rmSync(servePidFile(appdataDir), { force: true });
  for (const entry of readdirSync(appdataDir)) {
    if (entry.startsWith('serve-')) rmSync(join(appdataDir, entry), { recursive: true, force: true });
  }
}

/** A 0700 dir for the serve socket: inside the appdata dir unless that path is too long for a socket. */
export function makeSocketDir(appdataDir: string): string {
  const inside = join(appdataDir, `serve-${randomBytes(6).toString('hex')}`);
  if (Buffer.byteLength(inside) + '/bw.sock'.length < 100) {
    mkdirSync(inside, { mode: 0o700 });
    return inside;
  }
  return mkdtempSync(join(tmpdir(), 'clawdie-bw-'));
}
