// Decides whether the env file may be trusted (DESIGN §3): a regular file, not a link, mode 0600,
// owned by the agent's uid, and valid per the schema. I/O: one lstat, one O_NOFOLLOW open, one read,
// synchronous: the file is at most 64 KiB on a local disk, and five thread-pool round trips per
// check cost the agent's boot more than the reads themselves (the first check is on its path to
// registration). The verdict carries a reason line (never a value) and a fingerprint so callers can
// spot changes.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { type AgentEnv, MAX_ENV_BYTES, parseEnvText, TOO_LARGE } from './env-schema.ts';

export type EnvVerdict =
  | { status: 'valid'; env: AgentEnv; fingerprint: string }
  | { status: 'missing'; reason: string }
  | { status: 'refused'; reason: string };

type StatLike = Pick<Stats, 'isFile' | 'isSymbolicLink' | 'mode' | 'uid' | 'size'>;

/** Pure: the reason a stat result is unacceptable, or null if it may be read. */
function judgeStat(st: StatLike, uid: number): string | null {
  if (st.isSymbolicLink()) return 'is a symbolic link; a regular file is required';
  if (!st.isFile()) return 'is not a regular file';
  const mode = st.mode & 0o7777;
  if (mode !== 0o600) return `has mode ${mode.toString(8).padStart(4, '0')}; it must be 0600`;
  if (st.uid !== uid) return `is owned by uid ${st.uid}; it must be owned by the agent's uid ${uid}`;
  if (st.size > MAX_ENV_BYTES) return TOO_LARGE;
  return null;
}

const errCode = (err: unknown): string | undefined =>
  err instanceof Error && 'code' in err ? String((err as NodeJS.ErrnoException).code) : undefined;

export async function checkEnvFile(file: string, uid: number): Promise<EnvVerdict> {
  let st: Stats;
  try {
    st = lstatSync(file);
  } catch (err) {
    const code = errCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'missing', reason: 'does not exist yet' };
    return { status: 'refused', reason: `cannot be examined (${code ?? 'error'})` };
  }
  const bad = judgeStat(st, uid);
  if (bad) return { status: 'refused', reason: bad };
  let text: string;
  try {
    // O_NOFOLLOW plus a second fstat: the file may have been swapped since the lstat.
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const again = fstatSync(fd);
      const swapped = again.ino !== st.ino || again.dev !== st.dev ? 'changed while being read' : null;
      const reason = swapped ?? judgeStat(again, uid);
      if (reason) return { status: 'refused', reason };
      text = readFileSync(fd, { encoding: 'utf8' });
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = errCode(err);
    if (code === 'ENOENT') return { status: 'missing', reason: 'does not exist yet' };
    if (code === 'ELOOP')
      return { status: 'refused', reason: 'is a symbolic link; a regular file is required' };
    return { status: 'refused', reason: `cannot be read (${code ?? 'error'})` };
  }
  const parsed = parseEnvText(text);
  if (!parsed.ok) return { status: 'refused', reason: `is invalid: ${parsed.reason}` };
  const fingerprint = createHash('sha256').update(text).digest('hex');
  return { status: 'valid', env: parsed.env, fingerprint };
}
