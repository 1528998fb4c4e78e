// The agent's state machine (DESIGN §3): only states and transitions. What the names in it do —
// actors, delays, guards, actions — is in ./agent-setup.ts; time comes from XState delays so tests
// drive it with SimulatedClock.
import { assign, raise, type SnapshotFrom } from 'xstate';
import { agentSetup } from './agent-setup.ts';
import { initialContext } from './context.ts';
import type { MachineStateName } from './states.ts';

/**
 * A failed heartbeat or poll: the same rules for both calls — 401 and an unknown agent are raised
 * to `running`, a retryable error retries this call alone after its own backoff, anything else
 * (403: the token acts outside its tenant; other 4xx) sends the whole agent to `backoff`, whose
 * registration then gets the hive's final word (see registering's onError).
 */
function hiveCallFailed(what: 'heartbeat' | 'poll') {
  const retry =
    what === 'heartbeat'
      ? ({ plan: 'planHeartbeatRetry', delay: 'hbDelay' } as const)
      : ({ plan: 'planPollRetry', delay: 'pollDelay' } as const);
  return [
    { guard: 'unauthorized', actions: ['noteError', 'raiseUnauthorized'] },
    { guard: 'unknownAgent', actions: ['noteError', 'raiseUnknownAgent'] },
    {
      guard: 'retryable',
      target: 'retrying',
      actions: ['noteError', retry.plan, { type: 'logRetry', params: { what, delay: retry.delay } }],
    },
    {
      actions: ['noteError', { type: 'logError', params: { msg: `${what} refused` } }, 'raiseFatal'],
    },
  ] as const;
}

/**
 * What registering and backoff do alike: without a `.env` the agent waits for one; on shutdown it
 * deregisters if the hive knew it (a re-registration after running), else it just stops.
 */
const notYetRunning = {
  'env.missing': { target: 'awaitingSecrets', actions: 'forgetEnv' },
  shutdown: [{ guard: 'wasRegistered', target: 'draining', actions: 'drainThenStop' }, { target: 'stopped' }],
} as const;

export const agentMachine = agentSetup.createMachine({
  id: 'agent',
  context: ({ input }) => initialContext(input),
  initial: 'resolvingIdentity',
  invoke: { id: 'secrets', src: 'watchSecrets', input: ({ context }) => ({ deps: context.deps }) },
  // The env file's verdicts (DESIGN §3: an invalid or missing file never ends the agent), here where
  // a state does not say otherwise:
  //  valid:   stored; awaitingSecrets and backoff register with it at once, registering starts
  //           over with it, running applies a rotation in place (another hive or tenant: registers
  //           again), resolvingIdentity and draining keep it for when they are done;
  //  invalid: changes nothing, in every state: the last valid secrets stay, or there are none and
  //           the agent waits for a valid file;
  //  missing: forgotten; registering and backoff wait in awaitingSecrets, running drains first.
  on: {
    'env.valid': { actions: 'storeEnv' },
    'env.missing': { actions: 'forgetEnv' },
    'env.invalid': {
      guard: 'hasEnv',
      actions: { type: 'log', params: { msg: 'env file refused; kept the previous secrets' } },
    },
    shutdown: '.stopped',
  },
  states: {
    resolvingIdentity: {
      invoke: {
        src: 'prepare',
        input: ({ context }) => ({ deps: context.deps }),
        onDone: {
          target: 'awaitingSecrets',
          actions: [
            assign({
              identity: ({ event }) => event.output.identity,
              runner: ({ event }) => event.output.runner,
              agentKey: ({ event }) => event.output.agentKey,
            }),
            ({ context, event }) => {
              const { identity } = event.output;
              for (const w of identity.warnings) context.deps.log.warn(w);
              context.deps.log.info(
                { identityHash: identity.hash, soul: identity.files },
                'identity resolved',
              );
            },
          ],
        },
        onError: { target: 'failed', actions: 'fail' },
      },
    },
    awaitingSecrets: {
      entry: ['deactivateEnv', 'stopTask', 'taskSettled'],
      always: { guard: 'hasEnv', target: 'registering' },
    },
    registering: {
      entry: 'activateEnv',
      on: {
        'env.valid': { target: 'registering', reenter: true, actions: 'storeEnv' },
        ...notYetRunning,
      },
      invoke: {
        src: 'register',
        input: ({ context }) => ({
          deps: context.deps,
          tenant: context.env?.CLAWDIE_TENANT ?? '',
          agentKey: context.agentKey,
          identityHash: context.identity?.hash ?? '',
          runner: context.runner!,
        }),
        onDone: {
          target: 'running',
          actions: [{ type: 'registered', params: ({ event }) => event.output }, 'logRegistered'],
        },
        // A refused registration, answer by answer in registerOutcome (./refusal.ts): about the
        // .env (401, 403, the hive's 4xx on its URL or tenant) → forget it and wait for a changed
        // file, the reason in status.json; passing → backoff; what the agent built → failed.
        onError: [
          {
            guard: { type: 'registerOutcome', params: 'awaitEnv' },
            target: 'awaitingSecrets',
            actions: ['logRefusal', 'noteError', 'forgetEnv'],
          },
          {
            guard: { type: 'registerOutcome', params: 'retry' },
            target: 'backoff',
            actions: ['noteError', 'planBackoff'],
          },
          { target: 'failed', actions: ['fail', 'noteError'] },
        ],
      },
    },
    backoff: {
      entry: 'logBackoff',
      after: { registerRetry: 'registering' },
      on: {
        'env.valid': { target: 'registering', actions: 'storeEnv' },
        ...notYetRunning,
      },
    },
    running: {
      type: 'parallel',
      on: {
        'env.valid': [
          {
            guard: 'sameHome',
            actions: ['storeEnv', 'activateEnv', { type: 'log', params: { msg: 'env rotated; applied' } }],
          },
          { target: 'registering', actions: 'storeEnv' },
        ],
        'env.missing': { target: 'draining', actions: ['forgetEnv', 'drainThenAwait'] },
        shutdown: { target: 'draining', actions: 'drainThenStop' },
        'hive.drain': {
          target: 'draining',
          actions: ['drainThenStop', { type: 'log', params: { msg: 'hive asked to drain' } }],
        },
        'hive.unauthorized': {
          target: 'awaitingSecrets',
          actions: [
            { type: 'log', params: { msg: 'hive refused the token; waiting for a new .env' } },
            'forgetEnv',
          ],
        },
        // The hive forgot this agent (restarted, or a replica behind the primary that took the
        // registration): register again after the backoff, whose wait grows while the hive keeps
        // forgetting and starts over once a heartbeat or poll is answered (heartbeatOk, pollOk) —
        // never straight back to registering, which against such a hive is a busy loop.
        'hive.unknownAgent': {
          target: 'backoff',
          actions: [
            { type: 'log', params: { msg: 'hive forgot this agent; registering again' } },
            'planBackoff',
          ],
        },
        'hive.fatal': { target: 'backoff', actions: 'planBackoff' },
      },
      states: {
        heartbeat: {
          initial: 'waiting',
          states: {
            waiting: {
              after: { heartbeatInterval: 'beating' },
              // A task just leased: wait again, at most a third of its lease (heartbeatDelay), so the
              // first renewal is not an idle interval away.
              on: { 'task.leased': { target: 'waiting', reenter: true } },
            },
            beating: {
              invoke: {
                src: 'heartbeat',
                input: ({ context }) => ({
                  deps: context.deps,
                  agentId: context.agentId!,
                  busy: context.inFlight !== undefined,
                  running:
                    context.inFlight?.lease.held(context.deps.now()) === true
                      ? [context.inFlight.task.taskId]
                      : [],
                }),
                onDone: [
                  {
                    guard: { type: 'drainRequested', params: ({ event }) => event.output },
                    actions: [
                      { type: 'heartbeatTold', params: ({ event }) => event.output },
                      raise({ type: 'hive.drain' }),
                    ],
                  },
                  {
                    target: 'waiting',
                    actions: [{ type: 'heartbeatTold', params: ({ event }) => event.output }, 'heartbeatOk'],
                  },
                ],
                onError: hiveCallFailed('heartbeat'),
              },
            },
            retrying: { after: { heartbeatRetry: 'beating' } },
          },
        },
        polling: {
          initial: 'deciding',
          states: {
            deciding: { always: [{ guard: 'taskInFlight', target: 'held' }, { target: 'polling' }] },
            polling: {
              invoke: {
                src: 'poll',
                input: ({ context }) => ({
                  deps: context.deps,
                  agentId: context.agentId!,
                  waitSeconds: context.pollSeconds,
                }),
                onDone: [
                  {
                    guard: { type: 'gotTask', params: ({ event }) => ({ task: event.output }) },
                    target: 'held',
                    // gotTask has checked that the output is a task.
                    actions: [
                      'pollOk',
                      { type: 'announceTask', params: ({ event }) => ({ task: event.output! }) },
                    ],
                  },
                  { target: 'polling', reenter: true, actions: 'pollOk' },
                ],
                onError: hiveCallFailed('poll'),
              },
            },
            held: {
              on: { 'xstate.done.actor.task': 'polling', 'xstate.error.actor.task': 'polling' },
            },
            retrying: { after: { pollRetry: 'polling' } },
          },
        },
        executing: {
          initial: 'deciding',
          states: {
            deciding: { always: [{ guard: 'taskInFlight', target: 'busy' }, { target: 'idle' }] },
            idle: { on: { 'task.leased': { target: 'busy', actions: 'startTask' } } },
            busy: {
              on: {
                'xstate.done.actor.task': { target: 'idle', actions: 'taskSettled' },
                'xstate.error.actor.task': { target: 'idle', actions: ['taskSettled', 'noteError'] },
              },
            },
          },
        },
      },
    },
    draining: {
      initial: 'settling',
      entry: { type: 'log', params: { msg: 'draining' } },
      on: { shutdown: { actions: 'drainThenStop' } },
      states: {
        settling: {
          always: { guard: 'noTaskInFlight', target: 'deregistering' },
          on: {
            'xstate.done.actor.task': { target: 'deregistering', actions: 'taskSettled' },
            'xstate.error.actor.task': { target: 'deregistering', actions: 'taskSettled' },
          },
          after: { drainDeadline: 'releasing' },
        },
        releasing: {
          entry: 'stopTask',
          invoke: {
            src: 'releaseTask',
            input: ({ context }) => ({
              deps: context.deps,
              agentId: context.agentId,
              taskId: context.inFlight?.task.taskId,
            }),
            onDone: { target: 'deregistering', actions: 'taskSettled' },
            onError: { target: 'deregistering', actions: 'taskSettled' },
          },
        },
        deregistering: {
          invoke: {
            src: 'deregister',
            input: ({ context }) => ({ deps: context.deps, agentId: context.agentId, taskId: undefined }),
            onDone: [
              { guard: 'returnToAwait', target: '#agent.awaitingSecrets' },
              { target: '#agent.stopped' },
            ],
            onError: [
              { guard: 'returnToAwait', target: '#agent.awaitingSecrets' },
              { target: '#agent.stopped' },
            ],
          },
        },
      },
    },
    stopped: { type: 'final', entry: { type: 'log', params: { msg: 'stopped' } } },
    failed: {
      type: 'final',
      entry: ({ context }) => context.deps.log.error({ err: context.failure }, 'failed'),
    },
  },
});

export type AgentMachine = typeof agentMachine;

/** The machine's top-level state names, as XState infers them from `states` above. */
type TopState<V> = V extends string ? V : keyof V;
type MachineTop = TopState<SnapshotFrom<AgentMachine>['value']>;
/** A when A and B are the same set of names, else never (and then topStateOf fails typecheck). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? A : never) : never;
/** The states above are exactly the closed union's (./states.ts): adding or dropping one on either side fails typecheck. */
export type AgentMachineState = Same<MachineTop, MachineStateName>;

/** The top-level state of a snapshot (`'running'` for `{running: {...}}`). */
export function topStateOf(snapshot: SnapshotFrom<AgentMachine>): AgentMachineState {
  const value = snapshot.value;
  return typeof value === 'string' ? value : (Object.keys(value)[0] as TopState<typeof value>);
}
