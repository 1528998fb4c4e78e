// The runtime of a FreeBSD body: the node24 package and its dependencies installed once into
// <body>/runtime with `pkg -r` (pkg(8) --rootdir: files, and pkg's own database, under that root;
// `pkg -r <body>/runtime info|audit` later reads them). Node then sits at runtime/usr/local/bin/node
// and finds its package libraries (icu, libuv, c-ares, …) through LD_LIBRARY_PATH, which the rc.d
// script sets to runtime/usr/local/lib; the base libraries (libc, libthr, libssl, …) are the
// jail's own /lib and /usr/lib, which every thin jail of a release shares.
//
// pkg 2.x checks that the base system provides the shared libraries a package requires by listing
// <rootdir>/lib and <rootdir>/usr/lib (libpkg/system_shlibs.c). An empty runtime has neither, so
// the host's base libraries are shown to it as links for the length of the install, then removed.
// In: the pkg binary and its configured repositories. Out: files under <body>/runtime.
import fs from 'node:fs';
import path from 'node:path';
import { runOk } from '../jails/run.ts';
import { BODY } from './layout.ts';
import { BodyError } from './manifest.ts';

/** The package that provides node 24. */
export const NODE_PKG = 'node24';

/** The base directories pkg scans for system libraries, under its rootdir. */
export const BASE_LIB_DIRS = ['lib', 'usr/lib'] as const;

export interface PkgRuntimeOptions {
  /** The package that provides node (default node24). */
  pkg?: string;
  pkgBin?: string;
  /** Where the host's base libraries are (tests point this elsewhere). */
  hostRoot?: string;
}

/** Pure: is this file name a shared library name as pkg's scan reads it (libx.so or libx.so.N…)? */
export function isSharedLibName(name: string): boolean {
  return /^lib.+\.so(\.[0-9.]+)?$/.test(name) && name.length >= 7;
}

export async function assembleFreebsdRuntime(
  bodyDir: string,
  options: PkgRuntimeOptions = {},
): Promise<string> {
  const runtimeDir = path.join(bodyDir, BODY.runtime);
  const hostRoot = options.hostRoot ?? '/';
  fs.mkdirSync(runtimeDir, { recursive: true, mode: 0o755 });
  const links: string[] = [];
  for (const dir of BASE_LIB_DIRS) {
    const from = path.join(hostRoot, dir);
    const to = path.join(runtimeDir, dir);
    if (!fs.existsSync(from)) continue;
    fs.mkdirSync(to, { recursive: true, mode: 0o755 });
    for (const name of fs.readdirSync(from)) {
      if (!isSharedLibName(name)) continue;
      fs.symlinkSync(path.join(from, name), path.join(to, name));
      links.push(path.join(to, name));
    }
  }
  const pkg = options.pkg ?? NODE_PKG;
  try {
    await runOk(options.pkgBin ?? 'pkg', ['-r', runtimeDir, 'install', '-y', pkg], {
      timeoutMs: 900_000,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', ASSUME_ALWAYS_YES: 'yes' },
    });
  } finally {
    for (const link of links) fs.rmSync(link, { force: true });
    // Only the directories made for the links go, and only when nothing else came into them.
    for (const dir of [...BASE_LIB_DIRS].reverse().flatMap((d) => [d, path.dirname(d)])) {
      if (dir === '.') continue;
      try {
        fs.rmdirSync(path.join(runtimeDir, dir));
      } catch {
        // not empty, or already gone
      }
    }
  }
  if (!fs.existsSync(path.join(bodyDir, BODY.node))) {
    throw new BodyError(`pkg installed ${pkg} but ${BODY.node} is missing`);
  }
  return pkg;
}
