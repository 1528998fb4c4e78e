// The body of `linux` jails (DESIGN §11): with a body store (`jails.bodies`), each jail's version
// is recorded host-side in <jails.root>/T/body (outside the jail root, where the jail cannot reach
// it) and bound read-only (nosuid, nodev) at BODY_MOUNT inside the jail's own mount namespace
// before the jail is entered (JAIL_ENTRY_SCRIPT), so the host's mount table stays as it was and the
// mount ends with the jail. The jail's root (its init, until it drops to the jail user) keeps only
// JAIL_ROOT_CAPS: without CAP_SYS_ADMIN it cannot remount the body writable, without
// CAP_SYS_CHROOT it cannot leave its root, without CAP_DAC_OVERRIDE it cannot write what the mode
// of a file forbids: nothing in a jail can write the body.
import fs from 'node:fs';
import path from 'node:path';
import { BODY_MOUNT, VERSION_RE } from '../body/layout.ts';
import { readLink, versionDir } from '../body/store.ts';
import { EXIT, HostError } from '../exit-codes.ts';
import { isRealDirectory } from './is-dir.ts';

/** The bounding set of a jail's root: enough to drop to the jail user, nothing to undo the jail. */
export const JAIL_ROOT_CAPS = ['setuid', 'setgid', 'setpcap'] as const;

/**
 * Run by the host's /bin/sh as pid 1 of the new namespaces ($1 body or empty, $2 jail root,
 * $3 BODY_MOUNT, $4 init): bind the body read-only into the jail, enter the jail's root, and
 * exec its init through the jail's own setpriv with the reduced bounding set.
 */
export const JAIL_ENTRY_SCRIPT = [
  'set -e',
  'if [ -n "$1" ]; then',
  '  mount --bind "$1" "$2$3"',
  '  mount -o remount,bind,ro,nosuid,nodev "$2$3"',
  'fi',
  `exec chroot "$2" /usr/bin/setpriv --bounding-set=-all,${JAIL_ROOT_CAPS.map((c) => `+${c}`).join(',')} --inh-caps=-all -- "$4"`,
].join('\n');

export interface LinuxBodies {
  /** The version recorded for the jail, if any. */
  recorded(jail: string): string | undefined;
  record(jail: string, version: string): void;
  /** The store's current version (what a new jail gets). */
  current(): string;
  checkInstalled(version: string): void;
  /**
   * The host directory to bind at BODY_MOUNT (recording current for a jail that has none),
   * checked: the version is installed, and every component of the mount point inside the jail
   * root is a real directory (a link there would send the bind elsewhere).
   */
  toMount(jail: string): string;
}

export function linuxBodies(
  store: string,
  jailDir: (jail: string) => string,
  jailRoot: (jail: string) => string,
): LinuxBodies {
  const bodyFile = (jail: string): string => path.join(jailDir(jail), 'body');
  const checkInstalled = (version: string): string => {
    const dir = versionDir(store, version);
    if (!isRealDirectory(dir)) throw new HostError(`body ${version} is not installed`, EXIT.notFound);
    return dir;
  };
  const bodies: LinuxBodies = {
    recorded(jail) {
      try {
        const v = fs.readFileSync(bodyFile(jail), 'utf8').trim();
        return VERSION_RE.test(v) ? v : undefined;
      } catch {
        return undefined;
      }
    },
    record(jail, version) {
      const tmp = `${bodyFile(jail)}.tmp`;
      fs.writeFileSync(tmp, `${version}\n`, { mode: 0o600 });
      fs.renameSync(tmp, bodyFile(jail));
    },
    current() {
      const v = readLink(store, 'current');
      if (!v) throw new HostError('no body is installed (run clawdie-host body install)', EXIT.notFound);
      return v;
    },
    checkInstalled(version) {
      checkInstalled(version);
    },
    toMount(jail) {
      let version = bodies.recorded(jail);
      if (!version) {
        version = bodies.current();
        bodies.record(jail, version);
      }
      const dir = checkInstalled(version);
      let at = jailRoot(jail);
      for (const part of BODY_MOUNT.split('/').filter(Boolean)) {
        at = path.join(at, part);
        if (!isRealDirectory(at)) {
          throw new HostError(`jail ${jail}: ${BODY_MOUNT} is not a real directory in its root`, EXIT.policy);
        }
      }
      return dir;
    },
  };
  return bodies;
}
