// Actor for one heartbeat (running.heartbeat): POST /v1/agents/:id/heartbeat → {drain}.
import { fromPromise } from 'xstate';
import type { AgentDeps } from '../deps.ts';

export const heartbeat = fromPromise(
  async ({
    input,
    signal,
  }: {
    input: { deps: AgentDeps; agentId: string; busy: boolean };
    signal: AbortSignal;
  }) => input.deps.hive.heartbeat(input.agentId, input.busy, signal),
);
