// The `linux` backend (capability lanes, and real isolation in tests): a jail is the directory
// <jails.root>/T/root with its own user in its own etc/passwd, started as root in new mount, pid,
// net, uts and ipc namespaces through JAIL_ENTRY_SCRIPT (a chroot). Host-side bookkeeping (the pid of
// `unshare`) lives in <jails.root>/T/, outside the jail root, where the jail cannot reach it.
// Commands inside use `nsenter` into the init's namespaces and root, dropping to the jail user's
// uid/gid (supplementary groups cleared), so every path lookup happens inside the jail.
// The boot itself (what init runs) is the image's business; `jails.init` names it.
//
// The body (DESIGN §11, ./linux-body.ts): bound read-only into the jail's own mount namespace as
// the jail starts; switchBody drains the agent (SIGTERM to the jail's pid 1, which is the agent)
// and starts the jail again on the other version.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BODY_MOUNT } from '../body/layout.ts';
import { EXIT, HostError } from '../exit-codes.ts';
import type { JailBackend, JailUser } from './backend.ts';
import { isRealDirectory } from './is-dir.ts';
import { JAIL_ENTRY_SCRIPT, linuxBodies } from './linux-body.ts';
import { listJailDirs } from './list.ts';
import { jailUserFromPasswd } from './passwd.ts';
import { minimalEnv, runOk } from './run.ts';

export interface LinuxOptions {
  root: string;
  user: string;
  /** A directory copied (cp -a) as the new jail's root; without it a minimal skeleton is made. */
  template?: string;
  init?: string;
  /** The body store (DESIGN §11): every jail gets a version of it at BODY_MOUNT. */
  bodies?: string;
  /** How long a drained stop waits for the agent before SIGKILL (default 90 s). */
  drainTimeoutMs?: number;
}

/** Pure: a stable per-tenant uid in [200000, 999999) so jails do not share a uid by default. */
export function defaultJailUid(jail: string): number {
  return 200_000 + (createHash('sha256').update(jail).digest().readUInt32BE(0) % 799_999);
}

function readPid(file: string): number | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    return /^[1-9][0-9]{0,9}$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** The namespace init: the only child of our `unshare --fork`. */
function nsInitPid(unsharePid: number): number | undefined {
  try {
    const kids = fs
      .readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8')
      .trim()
      .split(/\s+/);
    return kids.length === 1 && /^[0-9]+$/.test(kids[0] ?? '') ? Number(kids[0]) : undefined;
  } catch {
    return undefined;
  }
}

function mkdirMode(p: string, mode: number): void {
  fs.mkdirSync(p, { mode });
  fs.chmodSync(p, mode);
}

function writeMode(p: string, text: string): void {
  fs.writeFileSync(p, text, { flag: 'wx', mode: 0o644 });
  fs.chmodSync(p, 0o644);
}

export function linuxBackend(options: LinuxOptions): JailBackend {
  const jailsRoot = (): string => fs.realpathSync(options.root);
  const jailDir = (jail: string): string => path.join(jailsRoot(), jail);
  const jailRoot = (jail: string): string => path.join(jailDir(jail), 'root');
  const pidFile = (jail: string): string => path.join(jailDir(jail), 'unshare.pid');
  const bodies = options.bodies ? linuxBodies(options.bodies, jailDir, jailRoot) : undefined;

  /** The running init's host pid, checked to really be chrooted into this jail's root. */
  const runningInit = (jail: string): number | undefined => {
    const upid = readPid(pidFile(jail));
    if (upid === undefined) return undefined;
    const init = nsInitPid(upid);
    if (init === undefined) return undefined;
    try {
      return fs.readlinkSync(`/proc/${init}/root`) === jailRoot(jail) ? init : undefined;
    } catch {
      return undefined;
    }
  };

  /**
   * SIGTERM to the jail's pid 1 (the agent, once boot.sh has exec'd it): it drains and exits, and
   * its pid namespace ends with it. SIGKILL only after the drain timeout.
   */
  const drainStop = async (jail: string, init: number): Promise<void> => {
    const gone = (): boolean => runningInit(jail) !== init;
    try {
      process.kill(init, 'SIGTERM');
    } catch {
      // already gone
    }
    const deadline = Date.now() + (options.drainTimeoutMs ?? 90_000);
    while (!gone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (!gone()) {
      try {
        process.kill(init, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      while (!gone()) await new Promise((r) => setTimeout(r, 20));
    }
    fs.rmSync(pidFile(jail), { force: true });
  };

  const backend: JailBackend = {
    kind: 'linux',
    jailsRoot,
    exists: async (jail) => isRealDirectory(jailRoot(jail)),
    async create(jail) {
      // A fresh tree under the host-owned <jails.root>/T: nothing hostile in it yet, so plain paths
      // are fine. Modes are set explicitly: clawdie-host runs with umask 077.
      const version = bodies?.current();
      fs.mkdirSync(jailDir(jail), { mode: 0o700 });
      if (version) bodies?.record(jail, version);
      const root = jailRoot(jail);
      mkdirMode(root, 0o755);
      if (options.template) {
        await runOk('cp', ['-a', '--no-dereference', `${options.template}/.`, `${root}/`]);
        return;
      }
      const uid = defaultJailUid(jail);
      for (const sub of [
        'etc',
        'home',
        'tmp',
        'proc',
        'var',
        'var/db',
        'var/db/clawdie',
        'usr',
        'usr/local',
      ]) {
        mkdirMode(path.join(root, sub), 0o755);
      }
      for (const sub of ['usr/local/etc', 'usr/local/etc/clawdie', 'usr/local/etc/clawdie/soul']) {
        mkdirMode(path.join(root, sub), 0o755);
      }
      fs.chmodSync(path.join(root, 'tmp'), 0o1777);
      const user = options.user;
      writeMode(
        path.join(root, 'etc/passwd'),
        `root:x:0:0:root:/root:/bin/sh\n${user}:x:${uid}:${uid}:clawdie agent:/home/${user}:/bin/sh\n`,
      );
      writeMode(path.join(root, 'etc/group'), `root:x:0:\n${user}:x:${uid}:\n`);
      const home = path.join(root, 'home', user);
      mkdirMode(home, 0o700);
      fs.chownSync(home, uid, uid);
      fs.chmodSync(path.join(root, 'var/db/clawdie'), 0o700);
      fs.chownSync(path.join(root, 'var/db/clawdie'), uid, uid);
    },
    async start(jail) {
      if (runningInit(jail) !== undefined) return;
      const init = options.init ?? '/sbin/init';
      const body = bodies?.toMount(jail) ?? '';
      const child = spawn(
        'unshare',
        [
          '--mount',
          '--pid',
          '--net',
          '--uts',
          '--ipc',
          '--fork',
          '--propagation',
          'private',
          '--kill-child',
          '/bin/sh',
          '-c',
          JAIL_ENTRY_SCRIPT,
          'clawdie-jail',
          body,
          jailRoot(jail),
          BODY_MOUNT,
          init,
        ],
        { env: minimalEnv(), stdio: 'ignore', detached: true },
      );
      if (child.pid === undefined) throw new HostError('cannot start unshare', EXIT.failure);
      fs.writeFileSync(pidFile(jail), `${child.pid}\n`, { mode: 0o600 });
      child.unref();
      // Wait (bounded) until the init is visible inside its root, so callers can exec right away.
      for (let i = 0; i < 100 && runningInit(jail) === undefined; i += 1) {
        await new Promise((r) => setTimeout(r, 20));
      }
      if (runningInit(jail) === undefined) throw new HostError(`jail ${jail} did not start`, EXIT.failure);
    },
    async stop(jail) {
      const upid = readPid(pidFile(jail));
      if (upid === undefined) return;
      const init = runningInit(jail);
      // Killing the pid namespace's init kills every process in it.
      for (const pid of [init, upid]) {
        if (pid === undefined) continue;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      for (let i = 0; i < 100 && fs.existsSync(`/proc/${upid}`) && runningInit(jail) !== undefined; i += 1) {
        await new Promise((r) => setTimeout(r, 20));
      }
      fs.rmSync(pidFile(jail), { force: true });
    },
    isRunning: async (jail) => runningInit(jail) !== undefined,
    list: async () => listJailDirs(jailsRoot()),
    bodyOf: async (jail) => bodies?.recorded(jail),
    async switchBody(jail, version) {
      if (!bodies) throw new HostError('jails.bodies is not set: jails have no body', EXIT.usage);
      bodies.checkInstalled(version);
      const init = runningInit(jail);
      if (init !== undefined) await drainStop(jail, init);
      bodies.record(jail, version);
      if (init !== undefined) await backend.start(jail);
    },
    async execAsUser(jail, user, argv, stdin) {
      // --wdns (chdir after entering the root), never --wd=DIR: nsenter opens a --wd path in the
      // HOST's view, which would leave the jail's /bin/sh with a working directory outside its root.
      const init = runningInit(jail);
      if (init === undefined) throw new HostError(`jail ${jail} is not running`, EXIT.failure);
      await runOk(
        'nsenter',
        [
          '--target',
          String(init),
          '--mount',
          '--pid',
          '--net',
          '--uts',
          '--ipc',
          '--root',
          '--wdns=/',
          '--setgid',
          String(user.gid),
          '--setuid',
          String(user.uid),
          '--',
          ...argv,
        ],
        { stdin, timeoutMs: 60_000 },
      );
    },
    async userIds(jail, user): Promise<JailUser> {
      return jailUserFromPasswd(jailsRoot(), jail, user);
    },
  };
  return backend;
}
