// The jail backend contract (DESIGN §6): what the host needs from bastille, linux and dir jails.
// For every backend a jail T's root is <jailsRoot>/T/root.
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
}
