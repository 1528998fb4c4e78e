// The body store on the host (DESIGN §11): <bodies>/<version>/ trees, each complete and read-only
// (directories 0555, files 0444 or 0555, root's), plus two links: `current` (what new jails get)
// and `previous` (kept for rollback). Installing assembles a new version in a staging directory
// beside the others, from the build output (`npm run build` → dist/body) and a runtime (Linux: the
// host's node and programs; FreeBSD: `pkg -r`), names it by its content, and renames it into place;
// the links move only after that, each by an atomic rename. The same build installed again is the
// same version. A process lock (<bodies>/.lock) serializes installs and link changes.
// In: the store directory, a source directory. Out: versions and links on disk.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { EXIT, HostError } from '../exit-codes.ts';
import { runOk } from '../jails/run.ts';
import { withProcessLock } from '../store/process-lock.ts';
import { BODY, type StoreLink, VERSION_RE } from './layout.ts';
import { BodyError, listEntries, Manifest, type ManifestEntry, versionName } from './manifest.ts';
import { assembleFreebsdRuntime, NODE_PKG } from './runtime-freebsd.ts';
import { assembleLinuxRuntime } from './runtime-linux.ts';

export type RuntimeKind = 'linux' | 'freebsd';

export interface InstallOptions {
  /** The build's body directory (dist/body): bundle, boot.sh, rc.d script, soul. */
  from: string;
  runtime: RuntimeKind;
  /** Linux: the node binary to ship (default: the one running this). */
  nodeBin?: string;
  /** FreeBSD: the pkg binary (tests use a stand-in). */
  pkgBin?: string;
}

export interface Installed {
  version: string;
  /** False when this exact content was installed already. */
  created: boolean;
  previous: string | undefined;
}

const SOURCE_FILES = [BODY.bundle, BODY.boot, BODY.rcd] as const;

export function versionDir(store: string, version: string): string {
  if (!VERSION_RE.test(version)) throw new HostError('not a body version name', EXIT.usage);
  return path.join(store, version);
}

/** Every installed version, oldest name first (names sort by agent version, then hash). */
export function listVersions(store: string): string[] {
  if (!fs.existsSync(store)) return [];
  return fs
    .readdirSync(store, { withFileTypes: true })
    .filter((e) => e.isDirectory() && VERSION_RE.test(e.name))
    .map((e) => e.name)
    .sort();
}

/** The version a store link names, if it names an installed one. */
export function readLink(store: string, link: StoreLink): string | undefined {
  try {
    const target = fs.readlinkSync(path.join(store, link));
    return VERSION_RE.test(target) && fs.existsSync(path.join(store, target)) ? target : undefined;
  } catch {
    return undefined;
  }
}

/** Points `link` at `version` (an installed one) with one atomic rename. */
export function setLink(store: string, link: StoreLink, version: string): void {
  if (!fs.existsSync(versionDir(store, version))) {
    throw new HostError(`body ${version} is not installed`, EXIT.notFound);
  }
  const tmp = path.join(store, `.${link}.${randomBytes(4).toString('hex')}`);
  fs.symlinkSync(version, tmp);
  fs.renameSync(tmp, path.join(store, link));
}

export function readManifest(store: string, version: string): Manifest {
  const file = path.join(versionDir(store, version), BODY.manifest);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new HostError(`body ${version}: no readable ${BODY.manifest}`, EXIT.failure, { cause: err });
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) throw new HostError(`body ${version}: ${BODY.manifest} is not valid`, EXIT.failure);
  return parsed.data;
}

/** Serializes the store's changes across processes. */
export function withStoreLock<T>(store: string, fn: () => Promise<T>): Promise<T> {
  if (!fs.existsSync(store)) {
    fs.mkdirSync(store, { recursive: true, mode: 0o755 });
    fs.chmodSync(store, 0o755); // whatever the umask (clawdie-host runs with 077)
  }
  return withProcessLock(path.join(store, '.lock'), { waitMs: 600_000, pollMs: 500 }, fn, (err) => {
    return new HostError('the body store is busy (lock not acquired)', EXIT.failure, { cause: err });
  });
}

/** Copies a source tree: dirs and regular files only (a link in the build output is refused). */
function copyTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true, mode: 0o755 });
  for (const name of fs.readdirSync(from).sort()) {
    const src = path.join(from, name);
    const dst = path.join(to, name);
    const st = fs.lstatSync(src);
    if (st.isDirectory()) copyTree(src, dst);
    else if (st.isFile()) {
      fs.copyFileSync(src, dst);
      fs.chmodSync(dst, st.mode & 0o111 ? 0o755 : 0o644);
    } else throw new BodyError(`the build output holds files and directories only: ${src}`);
  }
}

/** Files lose every write, setuid and setgid bit; directories become 0555. Links are left as they are. */
function makeReadOnly(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isSymbolicLink()) continue;
    if (e.isDirectory()) {
      makeReadOnly(p);
      fs.chmodSync(p, 0o555);
    } else fs.chmodSync(p, fs.lstatSync(p).mode & 0o111 ? 0o555 : 0o444);
  }
}

/** Makes a tree writable again by its owner, so it can be removed. */
function makeRemovable(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) makeRemovable(path.join(dir, e.name));
  }
}

export function removeVersionDir(dir: string): void {
  if (!fs.existsSync(dir)) return;
  makeRemovable(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Files the new version shares with `current` (same path, mode and SHA-256) become hard links to
 * the installed ones: an upgrade that changes only the bundle stores node once, and while jails
 * roll from one version to the other they still share node's pages. Both are read-only.
 */
function linkUnchanged(store: string, staged: string, entries: readonly ManifestEntry[]): number {
  const current = readLink(store, 'current');
  if (!current) return 0;
  let have: Manifest;
  try {
    have = readManifest(store, current);
  } catch {
    return 0;
  }
  const same = new Map(have.entries.map((e) => [e.path, JSON.stringify(e)]));
  let linked = 0;
  for (const e of entries) {
    if (!('sha256' in e) || same.get(e.path) !== JSON.stringify(e)) continue;
    const from = path.join(store, current, e.path);
    const to = path.join(staged, e.path);
    const dir = path.dirname(to);
    fs.chmodSync(dir, 0o755);
    const tmp = `${to}.link`;
    fs.linkSync(from, tmp);
    fs.renameSync(tmp, to);
    fs.chmodSync(dir, 0o555);
    linked += 1;
  }
  return linked;
}

function agentVersionOf(bundle: string): string {
  const head = fs.readFileSync(bundle, 'utf8').slice(0, 400).split('\n');
  const m = /^\/\/ clawdie-agent ([0-9A-Za-z.+-]{1,40})$/.exec(head[1] ?? '');
  if (!m) throw new HostError(`${bundle} carries no clawdie-agent version line`, EXIT.policy);
  return m[1] as string;
}

/** What node the runtime holds: the binary's own answer (Linux), pkg's record (FreeBSD). */
async function nodeVersionOf(opts: InstallOptions, staged: string): Promise<string> {
  try {
    if (opts.runtime === 'linux') {
      const out = execFileSync(opts.nodeBin ?? process.execPath, ['--version'], { encoding: 'utf8' });
      return (out.split('\n')[0] ?? '').trim().slice(0, 64) || 'unknown';
    }
    const r = await runOk(opts.pkgBin ?? 'pkg', [
      '-r',
      path.join(staged, BODY.runtime),
      'query',
      '%n-%v',
      NODE_PKG,
    ]);
    return (r.stdout.split('\n')[0] ?? '').trim().slice(0, 64) || 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Assembles and installs one version; `current` then names it and `previous` the one current
 * was (when that differs). Call under withStoreLock.
 */
export async function installBody(store: string, opts: InstallOptions): Promise<Installed> {
  for (const f of SOURCE_FILES) {
    if (!fs.existsSync(path.join(opts.from, f))) {
      throw new HostError(`${opts.from} is not a body build (no ${f}; run npm run build)`, EXIT.notFound);
    }
  }
  const agent = agentVersionOf(path.join(opts.from, BODY.bundle));
  fs.mkdirSync(store, { recursive: true, mode: 0o755 });
  const staged = path.join(store, `.staging-${randomBytes(6).toString('hex')}`);
  fs.mkdirSync(staged, { mode: 0o700 });
  try {
    copyTree(opts.from, staged);
    if (opts.runtime === 'linux') assembleLinuxRuntime(staged, opts.nodeBin);
    else await assembleFreebsdRuntime(staged, opts.pkgBin ? { pkgBin: opts.pkgBin } : {});
    makeReadOnly(staged);
    const entries = await listEntries(staged);
    const version = versionName(agent, entries);
    linkUnchanged(store, staged, entries);
    const manifest: Manifest = {
      format: 1,
      version,
      agent,
      node: await nodeVersionOf(opts, staged),
      platform: opts.runtime,
      arch: process.arch,
      runtime: opts.runtime === 'linux' ? 'host-copy' : 'pkg',
      entries,
    };
    fs.writeFileSync(path.join(staged, BODY.manifest), `${JSON.stringify(manifest, null, 1)}\n`, {
      mode: 0o444,
      flag: 'wx',
    });
    fs.chmodSync(staged, 0o555);
    const before = readLink(store, 'current');
    const target = path.join(store, version);
    const created = !fs.existsSync(target);
    if (created) fs.renameSync(staged, target);
    if (before !== version) {
      if (before) setLink(store, 'previous', before);
      setLink(store, 'current', version);
    }
    return { version, created, previous: before !== version ? before : readLink(store, 'previous') };
  } finally {
    removeVersionDir(staged);
  }
}
