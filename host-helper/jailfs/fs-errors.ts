// The typed errors of the safe writer (DESIGN §6, §10), and the one place that turns a raw fs error
// into one of them. A jailed root can plant, remove or swap names under the writer at any moment:
// the errors that such a race or plant causes (a directory at .env, a name gone right after the
// rename, …) become an UnsafePathError, "refused: <path> <what was wrong> (<step>)". Anything else
// (EIO, ENOSPC, EMFILE, …) is not the jail's doing and becomes an EnvFileError, "failed: <step>
// <path>: <code>". Both carry the fs error as `cause` and are one line; no raw errno escapes.
import { getSystemErrorMessage } from 'node:util';
import { EXIT, HostError } from '../exit-codes.ts';

/** Refusal: the jail's tree is not what a safe write needs (exit 4, DESIGN §6). */
export class UnsafePathError extends HostError {
  constructor(message: string, cause?: unknown) {
    super(message, EXIT.policy, { cause });
  }
}

/** A file-system failure that is not a refusal: the step it happened in, the path, the errno. */
export class EnvFileError extends HostError {
  readonly code: string | undefined;

  constructor(message: string, code: string | undefined, cause: unknown) {
    super(message, EXIT.failure, {
      cause,
      kind: code !== undefined && TRANSIENT.has(code) ? 'retryable' : 'fatal',
    });
    this.code = code;
  }
}

/** What a name planted, removed or swapped inside the jail makes an fs call fail with. */
const JAIL_CAUSED: Record<string, string> = {
  EISDIR: 'is a directory',
  ENOTEMPTY: 'is a non-empty directory',
  EEXIST: 'already exists',
  ENOENT: 'disappeared',
  ENOTDIR: 'is not a directory',
  ELOOP: 'is a symbolic link',
  EMLINK: 'has too many links',
  EPERM: 'may not be changed (operation not permitted)',
  EACCES: 'may not be changed (permission denied)',
  EBUSY: 'is busy (a mount point?)',
  EXDEV: 'is on another file system (a mount point?)',
  ETXTBSY: 'is busy',
  ENXIO: 'is a FIFO or device without a reader',
};

/** Failures that may pass by themselves: worth a retry later. */
const TRANSIENT = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'EINTR']);

/** True when `err` is an errno a plant or race inside the jail can cause. */
export function isJailCaused(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code in JAIL_CAUSED;
}

/** Who can make a step fail: 'jail' for calls on names the jail can touch, 'host' for our own fds. */
export type Blame = 'jail' | 'host';

function systemMessage(err: NodeJS.ErrnoException): string {
  if (typeof err.errno !== 'number') return '';
  try {
    return ` (${getSystemErrorMessage(err.errno)})`;
  } catch {
    return '';
  }
}

/**
 * The typed error for `err`, met at `step` (e.g. "renaming the new file into place") on `where`
 * (a host path, already made printable). Typed errors pass through unchanged.
 */
export function fsError(err: unknown, where: string, step: string, blame: Blame): HostError {
  if (err instanceof HostError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const what = code !== undefined && blame === 'jail' ? JAIL_CAUSED[code] : undefined;
  if (what !== undefined) return new UnsafePathError(`refused: ${where} ${what} (${step})`, err);
  return new EnvFileError(`failed: ${step} ${where}: ${code ?? 'error'}${systemMessage(e)}`, code, err);
}

/** Runs one fs step; a raw error leaves as the typed error of fsError. */
export function fsStep<T>(where: string, step: string, blame: Blame, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw fsError(err, where, step, blame);
  }
}
