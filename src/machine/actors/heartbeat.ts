// Actor for one heartbeat (running.heartbeat): POST /v1/agents/:id/heartbeat with the tasks the agent
// runs (the hive renews their leases) → {drain, cancel?, renewed?, lost?}, plus when it was sent: a
// renewal runs a lease length from then at the latest, so the agent's own view of the lease errs early.
import { fromPromise } from 'xstate';
import type { HeartbeatResponse } from '../../protocol/agents.ts';
import type { AgentDeps } from '../deps.ts';
import { hiveCall } from './hive-call.ts';

interface HeartbeatInput {
  deps: AgentDeps;
  agentId: string;
  busy: boolean;
  /** The running tasks whose leases to renew (none when idle, or past the task's deadline). */
  running: string[];
}

export type HeartbeatAnswer = HeartbeatResponse & { sentAt: number };

export const heartbeat = fromPromise<HeartbeatAnswer, HeartbeatInput>(async ({ input, signal }) => {
  const sentAt = input.deps.now();
  const body = input.running.length > 0 ? { busy: input.busy, running: input.running } : { busy: input.busy };
  const answer = await hiveCall(input.deps, () => input.deps.hive.heartbeat(input.agentId, body, signal));
  return { ...answer, sentAt };
});
