// A Bastille jail's fstab (${bastille_jailsdir}/NAME/fstab, host-side, root's): one line per
// `bastille mount`, written by Bastille's mount.sh as `HOST JAILSDIR/NAME/root/PATH TYPE OPTS 0 0`
// (a space inside a path as \040). The body's line is how the host knows a jail's version while it
// is stopped, and the one line it rewrites to switch a stopped jail. Pure functions.

export interface FstabLine {
  host: string;
  mountpoint: string;
  type: string;
  options: string;
}

const fromFstab = (field: string): string => field.replace(/\\040/g, ' ');
const toFstab = (field: string): string => field.replace(/ /g, '\\040');

/** Pure: the entries of an fstab text (comments and malformed lines skipped). */
export function parseFstab(text: string): FstabLine[] {
  const out: FstabLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(/\s+/);
    if (f.length < 4) continue;
    out.push({
      host: fromFstab(f[0] as string),
      mountpoint: fromFstab(f[1] as string),
      type: f[2] as string,
      options: f[3] as string,
    });
  }
  return out;
}

/** Pure: the host path mounted at `mountpoint`, when exactly one read-only nullfs line names it. */
export function mountedAt(text: string, mountpoint: string): string | undefined {
  const found = parseFstab(text).filter((l) => l.mountpoint === mountpoint);
  if (found.length !== 1) return undefined;
  const [l] = found as [FstabLine];
  return l.type === 'nullfs' && l.options.split(',')[0] === 'ro' ? l.host : undefined;
}

/** Pure: the line Bastille writes for a read-only nullfs mount. */
export function nullfsLine(host: string, mountpoint: string): string {
  return `${toFstab(host)} ${toFstab(mountpoint)} nullfs ro 0 0`;
}

/** Pure: `text` with the line for `mountpoint` replaced (or added) to mount `host` read-only. */
export function withMount(text: string, host: string, mountpoint: string): string {
  const kept = text
    .split('\n')
    .filter((raw) => raw.trim() !== '')
    .filter((raw) => {
      const [l] = parseFstab(raw);
      return l?.mountpoint !== mountpoint;
    });
  return `${[...kept, nullfsLine(host, mountpoint)].join('\n')}\n`;
}
