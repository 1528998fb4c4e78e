// Actor for one heartbeat (running.heartbeat): POST /v1/agents/:id/heartbeat → {drain}.
import { fromPromise } from 'xstate';
import type { HeartbeatResponse } from '../../protocol/agents.ts';
import type { AgentDeps } from '../deps.ts';
import { hiveCall } from './hive-call.ts';

interface HeartbeatInput {
  deps: AgentDeps;
  agentId: string;
  busy: boolean;
}

export const heartbeat = fromPromise<HeartbeatResponse, HeartbeatInput>(({ input, signal }) =>
  hiveCall(input.deps, () => input.deps.hive.heartbeat(input.agentId, input.busy, signal)),
);
