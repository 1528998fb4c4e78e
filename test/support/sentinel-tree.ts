// Test support for the safe-writer suites (integration adversarial, chaos jail races): their temp
// layout (a jail 'alpha' under base/jails, a sentinel tree at base/outside), the sentinel tree a
// link-following writer WOULD succeed in writing to (clawdie/.env, .env, a file to chown), and a
// snapshot of everything observable about a tree (content hash, mode, owner, link count, mtime,
// size, link target) taken without following links, to compare before and after.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EnvLocation } from '../../host-helper/envfile/safe-writer.ts';

export const IS_ROOT = process.getuid?.() === 0;
/** Who owns the jail user's files: a distinct uid/gid when root (CI), else this process's own. */
export const OWNER = IS_ROOT
  ? { uid: 4321, gid: 4322 }
  : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

/** A fresh temp dir (named `prefix`…) and the paths of jail 'alpha' and the sentinel tree in it. */
export function jailLayout(prefix: string) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const jails = path.join(base, 'jails');
  const jailRoot = path.join(jails, 'alpha', 'root');
  const home = path.join(jailRoot, 'home');
  const userDir = path.join(home, 'clawdie');
  const loc: EnvLocation = { jailsRoot: jails, jail: 'alpha', user: 'clawdie' };
  return {
    base,
    jails,
    outside: path.join(base, 'outside'),
    jailRoot,
    home,
    userDir,
    envFile: path.join(userDir, '.env'),
    loc,
  };
}

/** Writes the sentinel files under `outside` (created if missing) with old mtimes, so any touch shows. */
export function writeSentinels(outside: string): void {
  fs.mkdirSync(path.join(outside, 'clawdie'), { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(outside, 'clawdie', '.env'), 'SENTINEL=1\n', { mode: 0o644 });
  fs.writeFileSync(path.join(outside, '.env'), 'SENTINEL=2\n', { mode: 0o644 });
  fs.writeFileSync(path.join(outside, 'target'), 'SENTINEL=3\n', { mode: 0o640 });
  for (const p of ['clawdie/.env', '.env', 'target', 'clawdie', '.'])
    fs.utimesSync(path.join(outside, p), 1_000_000, 1_000_000);
}

/**
 * Adds to `out` one line per path in the tree at `top` (itself included), keyed by its path
 * relative to `relTo` ('.' for relTo itself); returns `out`.
 */
export function snapshotTree(
  top: string,
  relTo = top,
  out: Record<string, string> = {},
): Record<string, string> {
  const visit = (p: string): void => {
    const st = fs.lstatSync(p);
    let extra = '';
    if (st.isSymbolicLink()) extra = `-> ${fs.readlinkSync(p)}`;
    else if (st.isFile()) extra = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    out[path.relative(relTo, p) || '.'] =
      `${st.mode.toString(8)} ${st.uid}:${st.gid} n${st.nlink} ${st.mtimeMs} ${st.size} ${extra}`;
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) visit(path.join(p, e));
  };
  visit(top);
  return out;
}
