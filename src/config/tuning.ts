// Non-secret tunables from the process environment, checked loudly at start (one line naming the
// variable). Production uses the defaults; tests shorten them.
import * as z from 'zod';
import { ClawdieError } from '../errors.ts';
import { DEFAULT_TUNING, type Tuning } from '../machine/deps.ts';
import { formatProblem } from '../protocol/format-issue.ts';

const Seconds = z.coerce.number().positive().max(86_400).optional();

const TuningEnv = z.object({
  CLAWDIE_ENV_POLL_SECONDS: Seconds,
  CLAWDIE_DRAIN_SECONDS: Seconds,
  CLAWDIE_BACKOFF_MAX_SECONDS: Seconds,
  // The crash-loop breaker (machine/crash-loop.ts): N unclean ends within the window open it.
  CLAWDIE_CRASH_LOOP_THRESHOLD: z.coerce.number().int().min(1).max(100).optional(),
  CLAWDIE_CRASH_LOOP_WINDOW_SECONDS: Seconds,
  CLAWDIE_CRASH_LOOP_DELAY_SECONDS: Seconds,
  CLAWDIE_CRASH_LOOP_MAX_DELAY_SECONDS: Seconds,
  CLAWDIE_CRASH_LOOP_HEALTHY_SECONDS: Seconds,
});

export function tuningFromEnv(env: NodeJS.ProcessEnv): Tuning {
  const parsed = TuningEnv.safeParse(env);
  if (!parsed.success) throw new ClawdieError(formatProblem(parsed.error, 'environment'));
  const t = parsed.data;
  const cl = DEFAULT_TUNING.crashLoop;
  const ms = (s: number | undefined, fallback: number): number =>
    s === undefined ? fallback : Math.round(s * 1000);
  return {
    ...DEFAULT_TUNING,
    envPollMs: ms(t.CLAWDIE_ENV_POLL_SECONDS, DEFAULT_TUNING.envPollMs),
    drainDeadlineMs: ms(t.CLAWDIE_DRAIN_SECONDS, DEFAULT_TUNING.drainDeadlineMs),
    backoff: {
      ...DEFAULT_TUNING.backoff,
      capMs: ms(t.CLAWDIE_BACKOFF_MAX_SECONDS, DEFAULT_TUNING.backoff.capMs),
    },
    crashLoop: {
      threshold: t.CLAWDIE_CRASH_LOOP_THRESHOLD ?? cl.threshold,
      windowMs: ms(t.CLAWDIE_CRASH_LOOP_WINDOW_SECONDS, cl.windowMs),
      baseDelayMs: ms(t.CLAWDIE_CRASH_LOOP_DELAY_SECONDS, cl.baseDelayMs),
      maxDelayMs: ms(t.CLAWDIE_CRASH_LOOP_MAX_DELAY_SECONDS, cl.maxDelayMs),
      healthyMs: ms(t.CLAWDIE_CRASH_LOOP_HEALTHY_SECONDS, cl.healthyMs),
    },
  };
}
