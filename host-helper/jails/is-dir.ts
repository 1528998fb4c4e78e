// Whether a jail's root exists, for the backends that keep it as a plain directory (bastille,
// linux): lstat, so a symlink planted where the root should be does not count. In: a path; out: a
// boolean (any error, e.g. ENOENT, is false).
import fs from 'node:fs';

export function isRealDirectory(p: string): boolean {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}
