// The crash-loop breaker's decisions (DESIGN §10), pure: record in, record and verdict out. A service
// manager restarts a crashed agent (daemon(8) -r, systemd Restart=); when it keeps crashing, each
// restart would hit the hive again. The record (kept on disk by ./crash-loop-file.ts) remembers
// recent unclean ends; too many within a window open the breaker and the next start waits, longer
// on each further trip (capped). A run that stays healthy, or ends with a clean exit, closes it.
//
// An unclean end is a start never followed by a recorded clean exit: a crash, SIGKILL, a forced
// second signal, or exit 1 (unrecoverable config would loop just the same under a restarting
// manager). The end is dated when the next start finds it: under a restarting manager that is
// within the restart delay of the end itself.
import * as z from 'zod';
import type { BreakerStatus } from '../status/status.ts';

/** Kept unclean ends: enough for any threshold the knobs allow. */
const MAX_ENDS = 100;

/** Built at its first parse (z.lazy): a first start, with no record on disk, never needs it. */
export const CrashLoopRecord = z.lazy(() =>
  z.object({
    version: z.literal(1),
    /** When unclean ends were found (epoch ms), oldest first. */
    uncleanEnds: z.array(z.number().int().nonnegative()).max(MAX_ENDS),
    /** Times the breaker opened since the last clean run: the exponent of the wait. */
    trips: z.number().int().nonnegative().max(1_000),
    /** The run in progress. Still present at the next start means that run ended unclean. */
    current: z
      .object({ pid: z.number().int().positive(), startedAt: z.number().int().nonnegative() })
      .optional(),
  }),
);
export type CrashLoopRecord = z.infer<typeof CrashLoopRecord>;

export const EMPTY_RECORD: CrashLoopRecord = { version: 1, uncleanEnds: [], trips: 0 };

export interface CrashLoopPolicy {
  /** Unclean ends within `windowMs` that open the breaker. */
  threshold: number;
  windowMs: number;
  /** The first wait; each further trip doubles it, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Time in `running` after which a run counts as clean and closes the breaker. */
  healthyMs: number;
}

export const DEFAULT_CRASH_LOOP: CrashLoopPolicy = {
  threshold: 5,
  windowMs: 10 * 60_000,
  baseDelayMs: 60_000,
  maxDelayMs: 10 * 60_000,
  healthyMs: 60_000,
};

export interface StartVerdict {
  /** The record to store before booting (this start is its `current`). */
  record: CrashLoopRecord;
  open: boolean;
  /** How long to wait before booting; 0 when closed. */
  delayMs: number;
  /** Unclean ends counted within the window, this start's finding included. */
  uncleanInWindow: number;
  /** Whether the previous run ended unclean. */
  previousUnclean: boolean;
}

/** The wait of the n-th trip (n ≥ 1): base · 2^(n-1), capped. */
export function tripDelay(trips: number, policy: CrashLoopPolicy): number {
  if (trips <= 0) return 0;
  const exp = Math.min(trips - 1, 40); // 2^40 · any sane base is past any cap
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exp);
}

/**
 * A process starts. Unclean ends outside the window are forgotten (and any dated in the future: a
 * clock set back must not keep the breaker open). The breaker opens when the window holds
 * `threshold` unclean ends, or when the previous run was a trial after a trip and ended unclean.
 */
export function onStart(
  prev: CrashLoopRecord,
  now: number,
  pid: number,
  policy: CrashLoopPolicy,
): StartVerdict {
  const previousUnclean = prev.current !== undefined;
  const ends = prev.uncleanEnds.filter((t) => t > now - policy.windowMs && t <= now);
  if (previousUnclean) ends.push(now);
  const kept = ends.slice(-MAX_ENDS);
  const crashedTrial = prev.trips > 0 && previousUnclean;
  const open = crashedTrial || ends.length >= policy.threshold;
  const trips = open ? Math.min(prev.trips + 1, 1_000) : prev.trips;
  return {
    record: { version: 1, uncleanEnds: kept, trips, current: { pid, startedAt: now } },
    open,
    delayMs: open ? tripDelay(trips, policy) : 0,
    uncleanInWindow: ends.length,
    previousUnclean,
  };
}

/** The run stayed in `running` for `healthyMs`: the loop is over (the run itself goes on). */
export function onHealthy(r: CrashLoopRecord): CrashLoopRecord {
  return { ...r, uncleanEnds: [], trips: 0 };
}

/** Exit 0 after a drain: a clean end, and a clean run. */
export function onCleanExit(_r: CrashLoopRecord): CrashLoopRecord {
  return { ...EMPTY_RECORD };
}

/** Stopped by a signal while waiting: not a crash, not a clean run; the loop is remembered. */
export function onWaitInterrupted(r: CrashLoopRecord): CrashLoopRecord {
  const { current: _current, ...rest } = r;
  return rest;
}

/** What `clawdie-agent status` shows. `trial`: booting or running after a wait, not yet healthy. */
export function breakerStatus(r: CrashLoopRecord, waitingUntil?: number): BreakerStatus {
  const state = waitingUntil !== undefined ? 'open' : r.trips > 0 ? 'trial' : 'closed';
  return {
    state,
    uncleanEnds: r.uncleanEnds.length,
    trips: r.trips,
    ...(waitingUntil !== undefined ? { retryAt: new Date(waitingUntil).toISOString() } : {}),
  };
}
