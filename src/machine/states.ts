// The agent's state names as one closed union (DESIGN §3, §10), one line each on what the agent is
// doing there: the machine's top-level states plus the crash-loop breaker's wait, which runs before
// the machine starts. status.json's schema and `clawdie-agent status` read this list; the machine's
// states are checked against it at compile time (agent-machine.ts).
import * as z from 'zod';

export const AgentStateName = z.enum([
  'crashLoopWait',
  'resolvingIdentity',
  'awaitingSecrets',
  'registering',
  'backoff',
  'running',
  'draining',
  'stopped',
  'failed',
]);
export type AgentStateName = z.infer<typeof AgentStateName>;

/** The states of the machine itself: all but the breaker's wait before it starts. */
export type MachineStateName = Exclude<AgentStateName, 'crashLoopWait'>;

/** One line per state: what the agent is doing there (printed by `clawdie-agent status`). */
export const STATE_MEANING: Record<AgentStateName, string> = {
  crashLoopWait: 'held back before boot: too many unclean ends in a row (crash-loop breaker)',
  resolvingIdentity: 'reading the layered soul and building the task runner',
  awaitingSecrets:
    'waiting for an acceptable .env (0600, own uid, valid keys), or a changed one after the hive refused it',
  registering: 'announcing this agent (identity hash, capabilities) to the hive',
  backoff:
    'waiting out a failed registration or a hive that forgot this agent (exponential backoff, full jitter)',
  running: 'registered: heartbeat, long-poll and task execution side by side',
  draining: 'leaving: no new tasks; the running one finishes or is handed back, then deregister',
  stopped: 'done after a drain or shutdown (exit 0)',
  failed:
    'cannot go on: unusable soul or state dir, or the hive refuses what this build sends (exit 1 with one line)',
};
