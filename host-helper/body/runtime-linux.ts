// The runtime of a Linux body: node and the few programs a jail runs (layout.ts RUNTIME_PROGRAMS),
// each with the shared libraries `ldd` names, copied as real files (no links) into <body>/runtime
// at the paths the jail will look them up by (its root links bin, lib, lib64, usr/bin and
// usr/local/bin into the runtime). Libraries under /usr/lib go to lib/ (glibc searches both).
// In: host binaries. Out: files under `runtimeDir`; returns their jail paths.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BODY, RUNTIME_LINKS, RUNTIME_PROGRAMS } from './layout.ts';
import { BodyError } from './manifest.ts';

/** Pure: the absolute library paths in `ldd` output (vdso has none). */
export function lddPaths(output: string): string[] {
  const out = new Set<string>();
  for (const m of output.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/g)) out.add(m[1] as string);
  return [...out];
}

/** Pure: where a library found at `hostPath` lives in a runtime (and so, in a jail). */
export function libraryPath(hostPath: string): string {
  const p = path.posix.normalize(hostPath).replace(/^\/usr\/(lib|lib64)\//, '/$1/');
  if (!underLinks(p)) throw new BodyError(`library ${hostPath} is outside the runtime's directories`);
  return p;
}

/** Pure: whether a jail path lies under one of the directories the jail links to its runtime. */
export function underLinks(jailPath: string): boolean {
  return RUNTIME_LINKS.some(
    (d) => jailPath.startsWith(`/${d}/`) && !jailPath.slice(d.length + 2).includes('/..'),
  );
}

function copyReal(runtimeDir: string, hostPath: string, jailPath: string): boolean {
  const dest = path.join(runtimeDir, jailPath);
  if (fs.existsSync(dest)) return false;
  fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o755 });
  fs.copyFileSync(fs.realpathSync(hostPath), dest);
  fs.chmodSync(dest, 0o555);
  return true;
}

function installProgram(runtimeDir: string, hostPath: string, jailPath: string, files: string[]): void {
  if (!underLinks(jailPath)) throw new BodyError(`program ${jailPath} is outside the runtime's directories`);
  if (copyReal(runtimeDir, hostPath, jailPath)) files.push(jailPath);
  const ldd = execFileSync('ldd', [fs.realpathSync(hostPath)], { encoding: 'utf8' });
  for (const lib of lddPaths(ldd)) {
    const at = libraryPath(lib);
    if (copyReal(runtimeDir, lib, at)) files.push(at);
  }
}

/** Copies node (default: the one running this) and the jail programs into `<body>/runtime`. */
export function assembleLinuxRuntime(bodyDir: string, nodeBin: string = process.execPath): string[] {
  const runtimeDir = path.join(bodyDir, BODY.runtime);
  fs.mkdirSync(runtimeDir, { recursive: true, mode: 0o755 });
  const files: string[] = [];
  installProgram(runtimeDir, nodeBin, `/${path.relative(BODY.runtime, BODY.node)}`, files);
  for (const [jailPath, host] of Object.entries(RUNTIME_PROGRAMS))
    installProgram(runtimeDir, host, jailPath, files);
  return files;
}
