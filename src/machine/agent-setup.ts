// The implementations the agent's machine is set up with (DESIGN §3): its actors (one file each in
// ./actors), delays, guards and actions. Decisions are pure functions in ./context.ts; the states and
// transitions that use these names are in ./agent-machine.ts.
import { assign, raise, setup, stopChild } from 'xstate';
import type { TaskAssignment } from '../protocol/tasks.ts';
import { executeTask } from './actors/execute-task.ts';
import { heartbeat } from './actors/heartbeat.ts';
import { poll } from './actors/poll.ts';
import { prepare } from './actors/prepare.ts';
import { register } from './actors/register.ts';
import { deregister, releaseTask } from './actors/release.ts';
import { watchSecrets } from './actors/watch-secrets.ts';
import {
  type AgentContext,
  type AgentEvent,
  delayFor,
  errorLine,
  isRetryable,
  isUnauthorized,
  isUnknownAgent,
  sameHome,
} from './context.ts';
import type { AgentDeps } from './deps.ts';

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
    heartbeatInterval: ({ context }) => context.heartbeatMs,
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
    wasRegistered: ({ context }) => context.agentId !== undefined,
    taskInFlight: ({ context }) => context.inFlight !== undefined,
    noTaskInFlight: ({ context }) => context.inFlight === undefined,
    gotTask: ({ event }) => (event as { output?: unknown }).output != null,
    drainRequested: ({ event }) => (event as { output?: { drain?: boolean } }).output?.drain === true,
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
    planBackoff: assign({
      backoffMs: ({ context }) => delayFor(context, context.attempt),
      attempt: ({ context }) => context.attempt + 1,
    }),
    logBackoff: ({ context }) =>
      context.deps.log.info(
        { delayMs: context.backoffMs, err: context.lastError },
        'backing off before registering again',
      ),
    registered: assign(({ event }) => {
      const out = (event as { output?: unknown }).output as {
        agentId: string;
        capabilities: string[];
        heartbeatMs: number;
        pollSeconds: number;
      };
      return { ...out, attempt: 0, hbAttempt: 0, pollAttempt: 0, lastError: undefined };
    }),
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
    pollOk: assign({ pollAttempt: 0 }),
    announceTask: raise(({ event }) => ({
      type: 'task.leased' as const,
      task: (event as { output?: unknown }).output as TaskAssignment,
    })),
    startTask: assign(({ context, event, spawn }) => {
      if (event.type !== 'task.leased' || !context.runner || !context.agentId) return {};
      const task = event.task;
      const deadline = context.deps.now() + task.leaseSeconds * 1000;
      context.deps.log.info({ taskId: task.taskId, capability: task.capability }, 'task leased');
      spawn('executeTask', {
        id: TASK,
        input: { deps: context.deps, runner: context.runner, agentId: context.agentId, task, deadline },
      });
      return { inFlight: { task, deadline } };
    }),
    taskSettled: assign({ inFlight: undefined }),
    stopTask: stopChild(TASK),
    drainThenStop: assign({ afterDrain: 'stop' as const }),
    drainThenAwait: assign({ afterDrain: 'await' as const }),
    fail: assign({ failure: ({ event }) => errorLine(event) }),
  },
});
