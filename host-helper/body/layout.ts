// The body's layout (DESIGN §11): every path in it, named once for the host that assembles, mounts
// and switches it, the image scripts that run from it (rc.d, boot.sh, Bastillefile: their tests
// check they agree with this file) and the tests. Pure constants and name checks; no I/O.
//
// A body is one versioned, read-only tree; every jail sees its own version at BODY_MOUNT:
//   manifest.json                  what is in it (manifest.ts), written last
//   soul/                          the image soul layer (DESIGN §4: usr/local/share/clawdie/soul)
//   soul/skills/<name>/            the image's skills
//   libexec/clawdie-agent.mjs      the agent bundle
//   libexec/boot.sh                Linux: pid 1 of a jail
//   etc/rc.d/clawdie_agent         FreeBSD: the rc.d script (the jail's rc.d holds a link to it)
//   runtime/                       node and what it needs, as a root of its own:
//     FreeBSD: the node24 package and its dependencies, installed with `pkg -r runtime/`
//     Linux: node, the few programs a jail runs (RUNTIME_PROGRAMS) and their shared libraries

/** Where every jail sees its body, read-only (nullfs on FreeBSD, a bind mount on Linux). */
export const BODY_MOUNT = '/usr/local/share/clawdie';

/** Paths inside a body (relative to its root, so also to BODY_MOUNT). */
export const BODY = {
  manifest: 'manifest.json',
  soul: 'soul',
  bundle: 'libexec/clawdie-agent.mjs',
  boot: 'libexec/boot.sh',
  rcd: 'etc/rc.d/clawdie_agent',
  runtime: 'runtime',
  node: 'runtime/usr/local/bin/node',
  /** FreeBSD: the package's libraries, given to node's loader as LD_LIBRARY_PATH. */
  libdir: 'runtime/usr/local/lib',
} as const;

/** The same paths as a jail sees them. */
export const inJail = (rel: string): string => `${BODY_MOUNT}/${rel}`;

/**
 * Linux: the jail's own root links these directories into its body's runtime (relative links,
 * resolved inside the jail), so `/bin/sh`, node's loader `/lib64/ld-linux-*.so.2` and the libraries
 * under `/lib` are the body's. A runtime holds files only under these.
 */
export const RUNTIME_LINKS = ['bin', 'lib', 'lib64', 'usr/bin', 'usr/local/bin'] as const;

/** Linux: host programs a jail runs (boot.sh and the host's in-jail .env writer), by jail path. */
export const RUNTIME_PROGRAMS: Readonly<Record<string, string>> = {
  '/bin/sh': '/bin/sh',
  '/bin/cat': '/bin/cat',
  '/bin/rm': '/bin/rm',
  '/bin/chmod': '/bin/chmod',
  '/bin/mv': '/bin/mv',
  '/usr/bin/env': '/usr/bin/env',
  '/usr/bin/setpriv': '/usr/bin/setpriv',
};

/** Where `clawdie-host body` keeps the versions when host.json's `jails.bodies` names no other place. */
export const DEFAULT_BODIES_DIR = '/usr/local/clawdie/bodies';

/** The two names in the store that point at versions: what new jails get, and the one before it. */
export const STORE_LINKS = ['current', 'previous'] as const;
export type StoreLink = (typeof STORE_LINKS)[number];

/** A version's name: `<agent version>-<12 hex of the content hash>`; starts with a digit. */
export const VERSION_RE = /^[0-9][0-9A-Za-z.+-]{0,48}-[0-9a-f]{12}$/;
