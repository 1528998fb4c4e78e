// Assembles a Linux jail root template for the `linux` backend (host.json `jails.template`, copied
// with `cp -a` per jail): the image overlay's usr/ tree (agent bundle, image soul, skills), node
// and the few programs the boot and the host's in-jail writes need (sh, cat, rm, chmod, mv, env,
// setpriv), each with the shared libraries `ldd` names, copied as real files (no links: a jail
// must not depend on where the host keeps things), the boot script as init, /etc/passwd and
// /etc/group with the jail user, its home and state dir (0700, the user's), the device nodes node
// opens (/dev/null, /dev/zero, /dev/urandom; root only) and empty /proc and /tmp.
//   node image/linux/rootfs.ts --overlay dist/image-overlay --out DIR [--uid N] [--user NAME]
// In: the overlay from `npm run build`, the host's binaries. Out: DIR (must not exist yet).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const JAIL_INIT = '/usr/local/libexec/clawdie/boot.sh';
export const JAIL_NODE = '/usr/local/bin/node';
const BOOT_SRC = fileURLToPath(new URL('./boot.sh', import.meta.url));

/** Host programs a jail needs, by their path inside the jail. */
export const JAIL_PROGRAMS: Readonly<Record<string, string>> = {
  '/bin/sh': '/bin/sh',
  '/bin/cat': '/bin/cat',
  '/bin/rm': '/bin/rm',
  '/bin/chmod': '/bin/chmod',
  '/bin/mv': '/bin/mv',
  '/usr/bin/env': '/usr/bin/env',
  '/usr/bin/setpriv': '/usr/bin/setpriv',
};

export interface LinuxRootOptions {
  overlayDir: string;
  outDir: string;
  user?: string;
  uid?: number;
  /** The node binary to ship (default: the one running this). */
  nodeBin?: string;
}

export interface LinuxRootResult {
  dir: string;
  user: string;
  uid: number;
  /** Paths inside the jail of every program and library copied in. */
  files: string[];
}

/** Pure: the absolute library paths in `ldd` output (vdso has none). */
export function lddPaths(output: string): string[] {
  const out = new Set<string>();
  for (const m of output.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/g)) out.add(m[1] as string);
  return [...out];
}

function mkdirMode(p: string, mode: number, owner?: number): void {
  fs.mkdirSync(p, { recursive: true, mode });
  fs.chmodSync(p, mode);
  if (owner !== undefined) fs.chownSync(p, owner, owner);
}

/** Copies the real file behind `hostPath` to `inJail` (a path inside root), mode kept executable. */
function copyReal(root: string, hostPath: string, inJail: string, mode: number): void {
  const dest = path.join(root, inJail);
  if (fs.existsSync(dest)) return;
  fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o755 });
  fs.copyFileSync(fs.realpathSync(hostPath), dest);
  fs.chmodSync(dest, mode);
}

function installProgram(root: string, hostPath: string, inJail: string, files: string[]): void {
  copyReal(root, hostPath, inJail, 0o755);
  files.push(inJail);
  const libs = lddPaths(execFileSync('ldd', [fs.realpathSync(hostPath)], { encoding: 'utf8' }));
  for (const lib of libs) {
    if (!fs.existsSync(path.join(root, lib))) files.push(lib);
    copyReal(root, lib, lib, 0o755);
  }
}

export function assembleLinuxRoot(options: LinuxRootOptions): LinuxRootResult {
  const user = options.user ?? 'clawdie';
  const uid = options.uid ?? 1789;
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw new Error('user must be a plain login name');
  if (!Number.isInteger(uid) || uid < 1000 || uid > 2 ** 31 - 2) throw new Error('uid must be >= 1000');
  const root = path.resolve(options.outDir);
  if (fs.existsSync(root)) throw new Error(`${root} exists already`);
  mkdirMode(root, 0o755);
  const files: string[] = [];
  for (const d of ['bin', 'etc', 'home', 'proc', 'dev', 'var/db', 'var/log/clawdie', 'usr/local/bin'])
    mkdirMode(path.join(root, d), 0o755);
  mkdirMode(path.join(root, 'tmp'), 0o1777);

  fs.cpSync(path.join(options.overlayDir, 'usr'), path.join(root, 'usr'), {
    recursive: true,
    preserveTimestamps: true,
    verbatimSymlinks: true,
  });
  mkdirMode(path.join(root, 'usr/local/etc/clawdie/soul'), 0o755);
  copyReal(root, BOOT_SRC, JAIL_INIT, 0o555);

  installProgram(root, options.nodeBin ?? process.execPath, JAIL_NODE, files);
  for (const [inJail, host] of Object.entries(JAIL_PROGRAMS)) installProgram(root, host, inJail, files);

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
  return { dir: root, user, uid, files };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      overlay: { type: 'string' },
      out: { type: 'string' },
      uid: { type: 'string' },
      user: { type: 'string' },
    },
    strict: true,
  });
  if (!values.overlay || !values.out) {
    process.stderr.write(
      'usage: node image/linux/rootfs.ts --overlay DIR --out DIR [--uid N] [--user NAME]\n',
    );
    process.exit(2);
  }
  const r = assembleLinuxRoot({
    overlayDir: values.overlay,
    outDir: values.out,
    ...(values.uid ? { uid: Number(values.uid) } : {}),
    ...(values.user ? { user: values.user } : {}),
  });
  process.stdout.write(
    `${r.dir}: jail root for ${r.user} (uid ${r.uid}), ${r.files.length} programs and libraries\n`,
  );
}
