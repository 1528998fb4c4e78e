// Actor for one long-poll (running.polling): GET /v1/agents/:id/tasks?wait=S → a task or null.
// Leaving the state (drain) aborts the request through the actor's signal.
import { fromPromise } from 'xstate';
import type { TaskAssignment } from '../../protocol/tasks.ts';
import type { AgentDeps } from '../deps.ts';
import { hiveCall } from './hive-call.ts';

interface PollInput {
  deps: AgentDeps;
  agentId: string;
  waitSeconds: number;
}

export const poll = fromPromise<TaskAssignment | null, PollInput>(({ input, signal }) =>
  hiveCall(input.deps, () => input.deps.hive.poll(input.agentId, input.waitSeconds, signal)),
);
