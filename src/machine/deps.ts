// What the agent machine needs from the outside world, injected as the machine's input so tests can
// substitute time (SimulatedClock), randomness and the task runner. Also the plug-in point for skills:
// a RunnerFactory builds the TaskRunner once the identity is known.
import type { Logger } from 'pino';
import type { AgentPaths } from '../config/paths.ts';
import type { HiveClient } from '../hive/client.ts';
import type { Identity } from '../identity/resolve.ts';
import type { Principal } from '../identity/writable.ts';
import { type BackoffPolicy, DEFAULT_BACKOFF } from '../retry/backoff.ts';
import type { SecretsBox } from '../secrets/box.ts';
import type { AgentEnv } from '../secrets/env-schema.ts';
import type { TaskRunner } from '../skills/task-runner.ts';
import { type CrashLoopPolicy, DEFAULT_CRASH_LOOP } from './crash-loop.ts';

/** Given to the runner factory at start; `env()` is the active `.env` (undefined while awaiting it). */
export interface RunnerContext {
  paths: AgentPaths;
  log: Logger;
  identity: Identity;
  env: () => AgentEnv | undefined;
}

/** Builds the task runner (skills). The default serves only the built-in `echo`. */
export type RunnerFactory = (context: RunnerContext) => TaskRunner | Promise<TaskRunner>;

export interface Tuning {
  backoff: BackoffPolicy;
  /** Fallback stat poll of the env file (fs.watch does the real work). */
  envPollMs: number;
  /** How long draining waits for a running task before handing it back. */
  drainDeadlineMs: number;
  /** Budget of each release/deregister call while draining. */
  drainCallMs: number;
  /** The crash-loop breaker, applied by `run` before the machine starts. */
  crashLoop: CrashLoopPolicy;
}

export const DEFAULT_TUNING: Tuning = {
  backoff: DEFAULT_BACKOFF,
  envPollMs: 30_000,
  drainDeadlineMs: 20_000,
  drainCallMs: 3_000,
  crashLoop: DEFAULT_CRASH_LOOP,
};

export interface AgentDeps {
  paths: AgentPaths;
  log: Logger;
  hive: HiveClient;
  secrets: SecretsBox;
  createRunner: RunnerFactory;
  principal: Principal;
  version: string;
  os: string;
  now: () => number;
  random: () => number;
  /** Resolves after `ms` or when `signal` aborts, whichever comes first. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  tuning: Tuning;
}

export function realSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
