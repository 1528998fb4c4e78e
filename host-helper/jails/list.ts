// The jails under a jails root: entries named like a tenant (DESIGN §6) that hold a real `root`
// directory (lstat: a link planted there does not count). In: a directory. Out: sorted names.
import fs from 'node:fs';
import path from 'node:path';
import { TENANT_NAME_RE } from '../../src/protocol/names.ts';
import { isRealDirectory } from './is-dir.ts';

export function listJailDirs(jailsRoot: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(jailsRoot);
  } catch {
    return [];
  }
  return names
    .filter((n) => TENANT_NAME_RE.test(n) && isRealDirectory(path.join(jailsRoot, n, 'root')))
    .sort();
}
