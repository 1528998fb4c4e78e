// The Linux jail root template for the `linux` backend (`jails.template`, copied once per jail):
// only what is the jail's own. Everything that runs is the body's (DESIGN §11), bound read-only at
// /usr/local/share/clawdie when the jail starts; the root links /bin, /lib, /lib64, /usr/bin and
// /usr/local/bin into the body's runtime (relative links, resolved inside the jail), so node's
// loader, its libraries and the programs boot.sh and the host's in-jail writer use are the body's.
// The template holds: those links, the empty mount point, /etc/passwd and /etc/group with the jail
// user, its home and state dir (0700, the user's), the log dir (root's), the tenant soul directory
// (root's), the device nodes node opens (/dev/null, /dev/zero, /dev/urandom; root only), empty
// /proc and /tmp. A few KiB per jail.
//   node image/linux/rootfs.ts --out DIR [--uid N] [--user NAME]
// In: nothing of the host but mknod. Out: DIR (must not exist yet).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BODY, BODY_MOUNT, inJail, RUNTIME_LINKS } from '../../host-helper/body/layout.ts';

export { lddPaths } from '../../host-helper/body/runtime-linux.ts';

/** What the backend starts as pid 1 (host.json `jails.init`): the body's boot script. */
export const JAIL_INIT = inJail(BODY.boot);
/** Node as the jail runs it. */
export const JAIL_NODE = inJail(BODY.node);

export interface LinuxRootOptions {
  outDir: string;
  user?: string;
  uid?: number;
}

export interface LinuxRootResult {
  dir: string;
  user: string;
  uid: number;
  /** The links into the body's runtime: jail path → link text. */
  links: Record<string, string>;
}

/** Pure: the relative link that makes `dir` (a jail path like `usr/bin`) the runtime's `dir`. */
export function runtimeLink(dir: string): string {
  const up = '../'.repeat(dir.split('/').length - 1);
  return `${up}${BODY_MOUNT.slice(1)}/${BODY.runtime}/${dir}`;
}

function mkdirMode(p: string, mode: number, owner?: number): void {
  fs.mkdirSync(p, { recursive: true, mode });
  fs.chmodSync(p, mode);
  if (owner !== undefined) fs.chownSync(p, owner, owner);
}

export function assembleLinuxRoot(options: LinuxRootOptions): LinuxRootResult {
  const user = options.user ?? 'clawdie';
  const uid = options.uid ?? 1789;
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw new Error('user must be a plain login name');
  if (!Number.isInteger(uid) || uid < 1000 || uid > 2 ** 31 - 2) throw new Error('uid must be >= 1000');
  const root = path.resolve(options.outDir);
  if (fs.existsSync(root)) throw new Error(`${root} exists already`);
  mkdirMode(root, 0o755);
  for (const d of [
    'etc',
    'home',
    'proc',
    'dev',
    'var/db',
    'var/log/clawdie',
    BODY_MOUNT.slice(1),
    'usr/local/etc/clawdie/soul',
  ])
    mkdirMode(path.join(root, d), 0o755);
  mkdirMode(path.join(root, 'tmp'), 0o1777);

  const links: Record<string, string> = {};
  for (const d of RUNTIME_LINKS) {
    links[d] = runtimeLink(d);
    fs.mkdirSync(path.dirname(path.join(root, d)), { recursive: true, mode: 0o755 });
    fs.symlinkSync(links[d], path.join(root, d));
  }

  const write = (rel: string, text: string): void => {
    fs.writeFileSync(path.join(root, rel), text, { mode: 0o644, flag: 'wx' });
    fs.chmodSync(path.join(root, rel), 0o644);
  };
  write(
    'etc/passwd',
    `root:x:0:0:root:/root:/bin/sh\n${user}:x:${uid}:${uid}:clawdie agent:/home/${user}:/bin/sh\n`,
  );
  write('etc/group', `root:x:0:\n${user}:x:${uid}:\n`);
  mkdirMode(path.join(root, 'home', user), 0o700, uid);
  mkdirMode(path.join(root, 'var/db/clawdie'), 0o700, uid);

  if (process.getuid?.() === 0) {
    for (const [name, minor] of [
      ['null', 3],
      ['zero', 5],
      ['urandom', 9],
    ] as const) {
      execFileSync('mknod', ['-m', '666', path.join(root, 'dev', name), 'c', '1', String(minor)]);
    }
  }
  return { dir: root, user, uid, links };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, uid: { type: 'string' }, user: { type: 'string' } },
    strict: true,
  });
  if (!values.out) {
    process.stderr.write('usage: node image/linux/rootfs.ts --out DIR [--uid N] [--user NAME]\n');
    process.exit(2);
  }
  const r = assembleLinuxRoot({
    outDir: values.out,
    ...(values.uid ? { uid: Number(values.uid) } : {}),
    ...(values.user ? { user: values.user } : {}),
  });
  process.stdout.write(
    `${r.dir}: jail root template for ${r.user} (uid ${r.uid}); its body is mounted at ${BODY_MOUNT}\n`,
  );
}
