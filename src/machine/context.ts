// The agent machine's context and events, plus the pure functions its actions and
// guards use (so the machine file holds only wiring and transitions).

import { describeError } from '../errors.ts';
import { isHiveError } from '../hive/errors.ts';
import type { Identity } from '../identity/resolve.ts';
import { DEFAULT_HEARTBEAT_SECONDS, DEFAULT_POLL_SECONDS } from '../protocol/agents.ts';
import type { TaskAssignment } from '../protocol/tasks.ts';
import { nextDelay } from '../retry/backoff.ts';
import type { AgentEnv } from '../secrets/env-schema.ts';
import type { TaskRunner } from '../skills/task-runner.ts';
import type { ExecuteOutcome } from './actors/execute-task.ts';
import type { SecretsEvent } from './actors/watch-secrets.ts';
import type { AgentDeps } from './deps.ts';
import type { TaskLease } from './task-lease.ts';

export interface InFlightTask {
  task: TaskAssignment;
  /**
   * Its lease as the agent sees it (renewed by heartbeats) and its deadline; ended (the skill's
   * signal aborts) when the hive says it was cancelled or lost, or when the lease or deadline passes.
   */
  lease: TaskLease;
}

export interface AgentContext {
  deps: AgentDeps;
  identity: Identity | undefined;
  runner: TaskRunner | undefined;
  agentKey: string;
  /** The latest accepted `.env`; undefined while there is none (or its token was refused). */
  env: AgentEnv | undefined;
  agentId: string | undefined;
  capabilities: string[];
  heartbeatMs: number;
  pollSeconds: number;
  attempt: number;
  backoffMs: number;
  hbAttempt: number;
  hbDelay: number;
  pollAttempt: number;
  pollDelay: number;
  inFlight: InFlightTask | undefined;
  /** Where a drain ends: stopped (shutdown, hive asked) or back to awaiting secrets (env removed). */
  afterDrain: 'stop' | 'await';
  lastHeartbeat: string | undefined;
  lastError: string | undefined;
  failure: string | undefined;
}

export type AgentEvent =
  | SecretsEvent
  | { type: 'shutdown' }
  | { type: 'hive.drain' }
  | { type: 'hive.unauthorized' }
  | { type: 'hive.unknownAgent' }
  | { type: 'hive.fatal' }
  | { type: 'task.leased'; task: TaskAssignment }
  /** Completion of the spawned task actor (spawned children are not typed by setup). */
  | { type: 'xstate.done.actor.task'; output: ExecuteOutcome }
  | { type: 'xstate.error.actor.task'; error: unknown };

export function initialContext(deps: AgentDeps): AgentContext {
  return {
    deps,
    identity: undefined,
    runner: undefined,
    agentKey: '',
    env: undefined,
    agentId: undefined,
    capabilities: [],
    // The protocol's defaults until registration says otherwise.
    heartbeatMs: DEFAULT_HEARTBEAT_SECONDS * 1000,
    pollSeconds: DEFAULT_POLL_SECONDS,
    attempt: 0,
    backoffMs: 0,
    hbAttempt: 0,
    hbDelay: 0,
    pollAttempt: 0,
    pollDelay: 0,
    inFlight: undefined,
    afterDrain: 'stop',
    lastHeartbeat: undefined,
    lastError: undefined,
    failure: undefined,
  };
}

/** The `error` of an xstate error event, whatever the event type says. */
export const errorOf = (event: unknown): unknown => (event as { error?: unknown }).error;

export const errorLine = (event: unknown): string => describeError(errorOf(event));

export const isUnauthorized = (event: unknown): boolean => isHiveError(errorOf(event), 'unauthorized');
export const isUnknownAgent = (event: unknown): boolean => isHiveError(errorOf(event), 'not-found');
export const isRetryable = (event: unknown): boolean => {
  const err = errorOf(event);
  return isHiveError(err) && err.kind === 'retryable';
};

export const delayFor = (context: AgentContext, attempt: number): number =>
  nextDelay(attempt, context.deps.tuning.backoff, context.deps.random) ?? context.deps.tuning.backoff.capMs;

/** A rotated `.env` may change token and keys in place; a new hive or tenant means registering again. */
export const sameHome = (a: AgentEnv | undefined, b: AgentEnv): boolean =>
  a !== undefined && a.CLAWDIE_HIVE_URL === b.CLAWDIE_HIVE_URL && a.CLAWDIE_TENANT === b.CLAWDIE_TENANT;
