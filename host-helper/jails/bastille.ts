// The `bastille` backend (FreeBSD): jail root ${bastille_jailsdir}/NAME/root from bastille.conf,
// state via `jls -j NAME jid name path`, commands inside via `jexec -l -U USER NAME …` (clean
// environment, the jail's own user), lifecycle via `bastille create|template|start|stop`.
// The command surface is Bastille 1.x's (usr/local/share/bastille/*.sh) and FreeBSD's jls(8)/jexec(8).
//
// The body (DESIGN §11): the template mounts the version given as `--arg CLAWDIE_BODY=DIR` with
// nullfs, read-only, at BODY_MOUNT (its MOUNT line; Bastille records it in the jail's fstab, which
// is read back here for bodyOf). Switching a running jail drains its agent (`service clawdie_agent
// stop`: the rc.d script waits for node to finish), swaps the mount with `bastille umount` and
// `bastille mount` (Bastille's mount leaves an existing mount point alone, so re-applying the
// template never switches a body) and starts the agent again; a stopped jail gets its fstab line
// rewritten and mounts the new version when it starts.
import fs from 'node:fs';
import path from 'node:path';
import { BODY_MOUNT } from '../body/layout.ts';
import { readLink, versionDir } from '../body/store.ts';
import { EXIT, HostError } from '../exit-codes.ts';
import type { JailBackend, JailUser } from './backend.ts';
import { bastilleJailsDir, DEFAULT_BASTILLE_CONF } from './bastille-conf.ts';
import { mountedAt, withMount } from './bastille-fstab.ts';
import { isRealDirectory } from './is-dir.ts';
import { listJailDirs } from './list.ts';
import { jailUserFromPasswd } from './passwd.ts';
import { run, runOk } from './run.ts';

/** The rc.d service of the agent, as the jail's service(8) knows it. */
export const AGENT_SERVICE = 'clawdie_agent';

export interface BastilleOptions {
  conf?: string;
  /** The configured jails.root; must agree with bastille.conf so the host never writes elsewhere. */
  root: string;
  template?: string;
  release?: string;
  ip?: string;
  interface?: string;
  /** The body store (DESIGN §11). */
  bodies?: string;
  /** How long `service clawdie_agent stop` may take (the agent's drain), default 120 s. */
  drainTimeoutMs?: number;
}

/** Pure: reads `jls -j NAME jid name path` output; true only for our jail at the expected path. */
export function parseJls(stdout: string, jail: string, expectedRoot: string): boolean {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) return false;
  const [jid, name, jailPath] = (lines[0] as string).trim().split(/\s+/);
  return /^[0-9]+$/.test(jid ?? '') && name === jail && jailPath === expectedRoot;
}

export function bastilleBackend(options: BastilleOptions): JailBackend {
  const jailsDir = bastilleJailsDir(options.conf ?? DEFAULT_BASTILLE_CONF);
  if (path.normalize(options.root) !== jailsDir) {
    throw new HostError(
      `jails.root ${options.root} differs from bastille_jailsdir ${jailsDir}`,
      EXIT.failure,
    );
  }
  const jailRoot = (jail: string): string => path.join(jailsDir, jail, 'root');
  const fstab = (jail: string): string => path.join(jailsDir, jail, 'fstab');
  const mountpoint = (jail: string): string => `${jailRoot(jail)}${BODY_MOUNT}`;
  const bodies = options.bodies;
  const service = (jail: string, action: 'start' | 'stop') =>
    run('jexec', ['-l', jail, '/usr/sbin/service', AGENT_SERVICE, action], {
      timeoutMs: options.drainTimeoutMs ?? 120_000,
    });
  const isRunning = async (jail: string): Promise<boolean> => {
    const result = await run('jls', ['-j', jail, 'jid', 'name', 'path'], { timeoutMs: 15_000 });
    return result.code === 0 && parseJls(result.stdout, jail, jailRoot(jail));
  };
  const backend: JailBackend = {
    kind: 'bastille',
    jailsRoot: () => jailsDir,
    exists: async (jail) => isRealDirectory(jailRoot(jail)),
    async create(jail) {
      if (!options.release || !options.ip) {
        throw new HostError('jails.release and jails.ip are required to create bastille jails', EXIT.usage);
      }
      const args = ['create', jail, options.release, options.ip];
      if (options.interface) args.push(options.interface);
      // `bastille create` leaves the jail running (it restarts it after its own templates).
      let body: string[] = [];
      if (bodies) {
        const current = readLink(bodies, 'current');
        if (!current)
          throw new HostError('no body is installed (run clawdie-host body install)', EXIT.notFound);
        body = ['--arg', `CLAWDIE_BODY=${versionDir(bodies, current)}`];
      }
      await runOk('bastille', args, { timeoutMs: 600_000 });
      if (options.template)
        await runOk('bastille', ['template', jail, options.template, ...body], { timeoutMs: 600_000 });
    },
    async start(jail) {
      await runOk('bastille', ['start', jail], { timeoutMs: 300_000 });
    },
    async stop(jail) {
      await runOk('bastille', ['stop', jail], { timeoutMs: 300_000 });
    },
    isRunning,
    list: async () => listJailDirs(jailsDir),
    async bodyOf(jail) {
      if (!bodies) return undefined;
      let text: string;
      try {
        text = fs.readFileSync(fstab(jail), 'utf8');
      } catch {
        return undefined;
      }
      const host = mountedAt(text, mountpoint(jail));
      return host !== undefined && path.dirname(host) === path.normalize(bodies)
        ? path.basename(host)
        : undefined;
    },
    async switchBody(jail, version) {
      if (!bodies) throw new HostError('jails.bodies is not set: jails have no body', EXIT.usage);
      const dir = versionDir(bodies, version);
      if (!isRealDirectory(dir)) throw new HostError(`body ${version} is not installed`, EXIT.notFound);
      if (!(await isRunning(jail))) {
        // Stopped: nothing has the body mounted; the jail mounts the new line when it starts.
        const file = fstab(jail);
        const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
        const tmp = `${file}.clawdie-tmp`;
        fs.writeFileSync(tmp, withMount(text, dir, mountpoint(jail)), { mode: 0o644 });
        fs.renameSync(tmp, file);
        return;
      }
      // Drain first: the body cannot be unmounted while node runs from it. A service that was not
      // running makes `stop` complain; the umount below fails if anything still holds the body.
      await service(jail, 'stop');
      if ((await backend.bodyOf(jail)) !== undefined) {
        await runOk('bastille', ['umount', jail, BODY_MOUNT], { timeoutMs: 120_000 });
      }
      await runOk('bastille', ['mount', jail, dir, BODY_MOUNT, 'nullfs', 'ro', '0', '0'], {
        timeoutMs: 120_000,
      });
      const started = await service(jail, 'start');
      if (started.code !== 0) {
        throw new HostError(`jail ${jail}: the agent did not start on body ${version}`, EXIT.failure);
      }
    },
    async execAsUser(jail, user, argv, stdin) {
      // -l: clean environment (nothing of ours enters the jail); -U: the user of the jail's passwd.
      await runOk('jexec', ['-l', '-U', user.name, jail, ...argv], { stdin, timeoutMs: 60_000 });
    },
    async userIds(jail, user): Promise<JailUser> {
      return jailUserFromPasswd(jailsDir, jail, user);
    },
  };
  return backend;
}
