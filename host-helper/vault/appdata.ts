// The appdata dir the wrapper owns (DESIGN §6): created 0700 and owned by us, the private 0700 dir
// of a session's serve socket, and the reaping of what a hard-killed session left behind (its
// still-unlocked `bw serve`, any bw child still running, the socket dir), done under the lock
// before a new session starts. The lock dies with its holder at once, while the holder's bw
// children (own process groups) live on: each records its pid here, so the next holder kills them.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
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

const CHILD_PID = /^clawdie-bw-(\d+)\.pid$/;
const childPidFile = (appdataDir: string, pid: number): string => join(appdataDir, `clawdie-bw-${pid}.pid`);

/** Records a running bw child (its own process group); returns the function that forgets it. */
export function recordChild(appdataDir: string, pid: number): () => void {
  const file = childPidFile(appdataDir, pid);
  try {
    writeFileSync(file, `${pid}\n`, { mode: 0o600 });
  } catch {
    // the appdata dir is gone (tests tearing down): nothing to reap later either
  }
  return () => rmSync(file, { force: true });
}

const readPid = (file: string): number => {
  try {
    return Number.parseInt(readFileSync(file, 'utf8'), 10);
  } catch {
    return 0;
  }
};

/** Kills process group `pid` if the process is still what `isOurs` recognises (so a reused pid is left alone). */
function killIfOurs(pid: number, isOurs: (args: string) => boolean): void {
  if (!(pid > 1)) return;
  let args = '';
  try {
    args = execFileSync('ps', ['-ww', '-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
  } catch {
    return; // not running
  }
  if (!isOurs(args)) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}

/**
 * A session killed hard (SIGKILL, power loss) can leave its `bw serve` running — unlocked — other bw
 * children still running, and its socket dir behind. Under the lock, before anything else: kill those
 * process groups whose recorded pid is still a bw we started (checked with ps: a serve on a unix://
 * socket; every child carries --nointeraction), and remove the files and dirs.
 */
export function reapLeftovers(appdataDir: string): void {
  killIfOurs(readPid(servePidFile(appdataDir)), (a) => a.includes(' serve ') && a.includes('unix://'));
  rmSync(servePidFile(appdataDir), { force: true });
  for (const entry of readdirSync(appdataDir)) {
    if (CHILD_PID.test(entry)) {
      killIfOurs(readPid(join(appdataDir, entry)), (a) => a.includes('--nointeraction'));
      rmSync(join(appdataDir, entry), { force: true });
    }
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
