// Actor for one long-poll (running.polling): GET /v1/agents/:id/tasks?wait=S → a task or null.
// Leaving the state (drain) aborts the request through the actor's signal.
import { fromPromise } from 'xstate';
import type { AgentDeps } from '../deps.ts';

export const poll = fromPromise(
  async ({
    input,
    signal,
  }: {
    input: { deps: AgentDeps; agentId: string; waitSeconds: number };
    signal: AbortSignal;
  }) => input.deps.hive.poll(input.agentId, input.waitSeconds, signal),
);
