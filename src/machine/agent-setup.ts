// The implementations the agent's machine is set up with (DESIGN §3): its actors (one file each in
// ./actors), delays, guards and actions. Decisions are pure functions in ./context.ts; the states and
// transitions that use these names are in ./agent-machine.ts.
import { assign, raise, setup, stopChild } from 'xstate';
import type { HeartbeatResponse } from '../protocol/agents.ts';
import type { TaskAssignment } from '../protocol/tasks.ts';
import { executeTask } from './actors/execute-task.ts';
import { type HeartbeatAnswer, heartbeat } from './actors/heartbeat.ts';
import { poll } from './actors/poll.ts';
import { prepare } from './actors/prepare.ts';
import { type RegisterOutput, register } from './actors/register.ts';
import { deregister, releaseTask } from './actors/release.ts';
import { watchSecrets } from './actors/watch-secrets.ts';
import {
  type AgentContext,
  type AgentEvent,
  delayFor,
  errorLine,
  errorOf,
  isRetryable,
  isUnauthorized,
  isUnknownAgent,
  sameHome,
} from './context.ts';
import type { AgentDeps } from './deps.ts';
import { type RegisterOutcome, registerOutcome } from './refusal.ts';
import { DEFAULT_TASK_BUDGET_MS, heartbeatDelay, TaskLease } from './task-lease.ts';

/** The child id of the task being executed (spawned by `startTask`, stopped by `stopTask`). */
const TASK = 'task';

export const agentSetup = setup({
  types: {
    context: {} as AgentContext,
    events: {} as AgentEvent,
    input: {} as AgentDeps,
  },
  actors: { prepare, watchSecrets, register, heartbeat, poll, executeTask, releaseTask, deregister },
  delays: {
    heartbeatInterval: ({ context }) => heartbeatDelay(context.heartbeatMs, context.inFlight?.lease),
    heartbeatRetry: ({ context }) => context.hbDelay,
    pollRetry: ({ context }) => context.pollDelay,
    registerRetry: ({ context }) => context.backoffMs,
    drainDeadline: ({ context }) => context.deps.tuning.drainDeadlineMs,
  },
  guards: {
    hasEnv: ({ context }) => context.env !== undefined,
    unauthorized: ({ event }) => isUnauthorized(event),
    unknownAgent: ({ event }) => isUnknownAgent(event),
    retryable: ({ event }) => isRetryable(event),
    registerOutcome: ({ event }, params: RegisterOutcome) => registerOutcome(errorOf(event)) === params,
    wasRegistered: ({ context }) => context.agentId !== undefined,
    taskInFlight: ({ context }) => context.inFlight !== undefined,
    noTaskInFlight: ({ context }) => context.inFlight === undefined,
    // Actor outputs arrive as params, typed by the actor (agent-machine.ts maps event.output).
    gotTask: (_, params: { task: TaskAssignment | null }) => params.task !== null,
    drainRequested: (_, params: HeartbeatResponse) => params.drain,
    sameHome: ({ context, event }) => event.type === 'env.valid' && sameHome(context.env, event.env),
    returnToAwait: ({ context }) => context.afterDrain === 'await',
  },
  actions: {
    raiseUnauthorized: raise({ type: 'hive.unauthorized' }),
    raiseUnknownAgent: raise({ type: 'hive.unknownAgent' }),
    raiseFatal: raise({ type: 'hive.fatal' }),
    storeEnv: assign({ env: ({ context, event }) => (event.type === 'env.valid' ? event.env : context.env) }),
    forgetEnv: assign({ env: undefined }),
    /** The hive client reads credentials from the box: from here on, requests use this env. */
    activateEnv: ({ context }) => context.deps.secrets.set(context.env),
    deactivateEnv: ({ context }) => context.deps.secrets.set(undefined),
    noteError: assign({ lastError: ({ event }) => errorLine(event) }),
    logError: ({ context, event }, params: { msg: string }) =>
      context.deps.log.warn({ err: errorLine(event) }, params.msg),
    log: ({ context }, params: { msg: string }) => context.deps.log.info(params.msg),
    /** Before noteError: a refusal is a warning once per distinct reason, then only a debug line. */
    logRefusal: ({ context, event }) => {
      const err = errorLine(event);
      const level = err === context.lastError ? 'debug' : 'warn';
      context.deps.log[level](
        { err },
        'hive refused this .env (its URL, token or tenant); waiting for a changed .env',
      );
    },
    planBackoff: assign({
      backoffMs: ({ context }) => delayFor(context, context.attempt),
      attempt: ({ context }) => context.attempt + 1,
    }),
    logBackoff: ({ context }) =>
      context.deps.log.info(
        { delayMs: context.backoffMs, err: context.lastError },
        'backing off before registering again',
      ),
    registered: assign((_, params: RegisterOutput) => ({
      agentId: params.agentId,
      capabilities: params.capabilities,
      heartbeatMs: params.heartbeatMs,
      pollSeconds: params.pollSeconds,
      // `attempt` is not reset here: a hive that accepts a registration may still forget the agent
      // at once (lagging replicas); only a heartbeat or poll it answers (heartbeatOk, pollOk) shows
      // that the agent stays registered.
      hbAttempt: 0,
      pollAttempt: 0,
      lastError: undefined,
    })),
    logRegistered: ({ context }) =>
      context.deps.log.info(
        {
          agentId: context.agentId,
          capabilities: context.capabilities,
          identityHash: context.identity?.hash,
        },
        'registered with the hive',
      ),
    heartbeatOk: assign({
      attempt: 0,
      hbAttempt: 0,
      lastHeartbeat: ({ context }) => new Date(context.deps.now()).toISOString(),
    }),
    planHeartbeatRetry: assign({
      hbDelay: ({ context }) => delayFor(context, context.hbAttempt),
      hbAttempt: ({ context }) => context.hbAttempt + 1,
    }),
    logRetry: ({ context, event }, params: { what: string; delay: 'hbDelay' | 'pollDelay' }) =>
      context.deps.log.info(
        { err: errorLine(event), delayMs: context[params.delay] },
        `${params.what} failed; retrying`,
      ),
    planPollRetry: assign({
      pollDelay: ({ context }) => delayFor(context, context.pollAttempt),
      pollAttempt: ({ context }) => context.pollAttempt + 1,
    }),
    pollOk: assign({ attempt: 0, pollAttempt: 0 }),
    announceTask: raise((_, params: { task: TaskAssignment }) => ({
      type: 'task.leased' as const,
      task: params.task,
    })),
    startTask: assign(({ context, event, spawn }) => {
      if (event.type !== 'task.leased' || !context.runner || !context.agentId) return {};
      const task = event.task;
      // The task runs for its skill's own budget, not one lease: heartbeats renew the lease meanwhile.
      const budgetMs = context.runner.timeoutMs?.(task) ?? DEFAULT_TASK_BUDGET_MS;
      const lease = new TaskLease(context.deps.now(), task.leaseSeconds, budgetMs);
      context.deps.log.info({ taskId: task.taskId, capability: task.capability }, 'task leased');
      spawn('executeTask', {
        id: TASK,
        input: { deps: context.deps, runner: context.runner, agentId: context.agentId, task, lease },
      });
      return { inFlight: { task, lease } };
    }),
    /**
     * What a heartbeat answer says of the task running here: cancelled by its submitter or lost (the
     * hive no longer holds it for this agent) stops it; renewed pushes its lease on.
     */
    heartbeatTold: ({ context }, params: HeartbeatAnswer) => {
      const running = context.inFlight;
      if (!running) return;
      const { taskId } = running.task;
      if (params.cancel?.includes(taskId)) {
        if (running.lease.end('cancelled'))
          context.deps.log.info({ taskId }, 'task cancelled by its submitter; stopping it');
      } else if (params.lost?.includes(taskId)) {
        if (running.lease.end('lost'))
          context.deps.log.warn({ taskId }, 'the hive no longer holds this task for this agent; stopping it');
      } else if (params.renewed?.includes(taskId)) {
        running.lease.renewed(params.sentAt);
      }
    },
    taskSettled: assign({ inFlight: undefined }),
    stopTask: stopChild(TASK),
    drainThenStop: assign({ afterDrain: 'stop' as const }),
    drainThenAwait: assign({ afterDrain: 'await' as const }),
    fail: assign({ failure: ({ event }) => errorLine(event) }),
  },
});
