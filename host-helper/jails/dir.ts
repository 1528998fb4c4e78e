// The `dir` backend (demo and tests; no root needed): a jail is just <root>/T/root owned by the
// invoking user, who is also the jail user. Never "running", so writes use the host-side safe writer.
import fs from 'node:fs';
import path from 'node:path';
import { EXIT, HostError } from '../exit-codes.ts';
import type { JailBackend, JailUser } from './backend.ts';
import { listJailDirs } from './list.ts';

export function dirBackend(root: string, user: string): JailBackend {
  const jailRoot = (jail: string): string => path.join(fs.realpathSync(root), jail, 'root');
  return {
    kind: 'dir',
    jailsRoot: () => fs.realpathSync(root),
    exists: async (jail) => fs.existsSync(jailRoot(jail)),
    async create(jail) {
      // The user's own tree: plain mkdir is fine here (nobody else controls it).
      // The invoking user is the jail user, so 0700 (clawdie-host's umask) would do; keep the
      // usual modes anyway so a dir jail looks like a real one.
      for (const sub of ['etc', 'var/db/clawdie', 'usr/local/etc/clawdie/soul']) {
        fs.mkdirSync(path.join(jailRoot(jail), sub), { recursive: true, mode: 0o755 });
      }
      fs.mkdirSync(path.join(jailRoot(jail), 'home', user), { recursive: true, mode: 0o700 });
    },
    async start() {},
    async stop() {},
    isRunning: async () => false,
    async execAsUser() {
      throw new HostError('the dir backend has no running jails', EXIT.failure);
    },
    list: async () => listJailDirs(fs.realpathSync(root)),
    // A dir jail is the invoking user's directory tree: its agent runs on whatever node starts it.
    bodyOf: async () => undefined,
    async switchBody() {
      throw new HostError('the dir backend has no body', EXIT.usage);
    },
    async userIds(_jail, user): Promise<JailUser> {
      return { name: user, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    },
  };
}
