// The `bastille` backend (FreeBSD): jail root ${bastille_jailsdir}/NAME/root from bastille.conf,
// state via `jls -j NAME jid name path`, commands inside via `jexec -l -U USER NAME …` (clean
// environment, the jail's own user), lifecycle via `bastille create|template|start|stop`.
// The command surface is Bastille 1.x's (usr/local/share/bastille/*.sh) and FreeBSD's jls(8)/jexec(8).
import path from 'node:path';
import { EXIT, HostError } from '../exit-codes.ts';
import type { JailBackend, JailUser } from './backend.ts';
import { bastilleJailsDir, DEFAULT_BASTILLE_CONF } from './bastille-conf.ts';
import { isRealDirectory } from './is-dir.ts';
import { jailUserFromPasswd } from './passwd.ts';
import { run, runOk } from './run.ts';

export interface BastilleOptions {
  conf?: string;
  /** The configured jails.root; must agree with bastille.conf so the host never writes elsewhere. */
  root: string;
  template?: string;
  release?: string;
  ip?: string;
  interface?: string;
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
  const isRunning = async (jail: string): Promise<boolean> => {
    const result = await run('jls', ['-j', jail, 'jid', 'name', 'path'], { timeoutMs: 15_000 });
    return result.code === 0 && parseJls(result.stdout, jail, jailRoot(jail));
  };
  return {
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
      await runOk('bastille', args, { timeoutMs: 600_000 });
      if (options.template)
        await runOk('bastille', ['template', jail, options.template], { timeoutMs: 600_000 });
    },
    async start(jail) {
      await runOk('bastille', ['start', jail], { timeoutMs: 300_000 });
    },
    async stop(jail) {
      await runOk('bastille', ['stop', jail], { timeoutMs: 300_000 });
    },
    isRunning,
    async execAsUser(jail, user, argv, stdin) {
      // -l: clean environment (nothing of ours enters the jail); -U: the user of the jail's passwd.
      await runOk('jexec', ['-l', '-U', user.name, jail, ...argv], { stdin, timeoutMs: 60_000 });
    },
    async userIds(jail, user): Promise<JailUser> {
      return jailUserFromPasswd(jailsDir, jail, user);
    },
  };
}
