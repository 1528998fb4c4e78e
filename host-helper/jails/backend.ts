// The jail backend contract (DESIGN §6, §11): what the host needs from bastille, linux and dir
// jails. For every backend a jail T's root is <jailsRoot>/T/root; with a body store configured,
// every jail sees one body version read-only at BODY_MOUNT (host-helper/body/layout.ts).
import type { JailUser } from './passwd.ts';

export type { JailUser };
export type BackendKind = 'bastille' | 'linux' | 'dir';

export interface JailBackend {
  readonly kind: BackendKind;
  /** The canonical host directory holding <jail>/root. */
  jailsRoot(): string;
  exists(jail: string): Promise<boolean>;
  /** Creates the jail (stopped) from the image template. */
  create(jail: string): Promise<void>;
  start(jail: string): Promise<void>;
  stop(jail: string): Promise<void>;
  isRunning(jail: string): Promise<boolean>;
  /**
   * Runs a fixed program inside the RUNNING jail as `user`, content on stdin, so every path lookup
   * happens inside the jail. argv[0] is a path inside the jail.
   */
  execAsUser(jail: string, user: JailUser, argv: readonly string[], stdin: string): Promise<void>;
  /** The jail user's ids, from the backend (never uid 0 or nobody for bastille/linux). */
  userIds(jail: string, user: string): Promise<JailUser>;
  /** The jails this backend holds (names with a <jail>/root directory). */
  list(): Promise<string[]>;
  /** The body version the jail is set to; undefined when it has none (no store, or the dir backend). */
  bodyOf(jail: string): Promise<string | undefined>;
  /**
   * Sets the jail's body to an installed version. A running jail gets a drained restart: its agent
   * drains (finishes or hands back its task, deregisters) and stops, the new body is mounted, and
   * the agent starts again on it. A stopped jail starts on it next time.
   */
  switchBody(jail: string, version: string): Promise<void>;
}
