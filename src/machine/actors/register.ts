// Actor for `registering`: POST /v1/agents with the identity hash, capabilities (always with `echo`),
// what the agent says about each (descriptions and input schemas from its skills), version and os.
// Output: the agent id and the intervals the hive asks for.
import { fromPromise } from 'xstate';
import { MAX_POLL_WAIT_SECONDS } from '../../protocol/tasks.ts';
import { describeCapabilities } from '../../skills/descriptors.ts';
import { ECHO_CAPABILITY, type TaskRunner } from '../../skills/task-runner.ts';
import type { AgentDeps } from '../deps.ts';
import { agentIdOf } from './agent-id.ts';
import { hiveCall } from './hive-call.ts';

interface RegisterInput {
  deps: AgentDeps;
  tenant: string;
  agentKey: string;
  identityHash: string;
  runner: TaskRunner;
}

export function capabilitiesOf(runner: TaskRunner): string[] {
  return [...new Set([ECHO_CAPABILITY, ...runner.capabilities()])].sort();
}

/** What a registration gives the machine: the agent id and the intervals the hive asks for. */
export interface RegisterOutput {
  agentId: string;
  capabilities: string[];
  heartbeatMs: number;
  pollSeconds: number;
}

export const register = fromPromise<RegisterOutput, RegisterInput>(async ({ input, signal }) => {
  const { deps } = input;
  const agentId = agentIdOf(input.tenant, input.agentKey);
  const capabilities = capabilitiesOf(input.runner);
  const descriptors =
    input.runner.descriptors?.(capabilities) ?? describeCapabilities(capabilities, new Map());
  const res = await hiveCall(deps, () =>
    deps.hive.register(
      {
        agentId,
        tenant: input.tenant,
        capabilities,
        descriptors,
        identityHash: input.identityHash,
        version: deps.version,
        os: deps.os,
      },
      signal,
    ),
  );
  return {
    agentId: res.agentId,
    capabilities,
    heartbeatMs: Math.max(res.heartbeatSeconds * 1000, 50),
    pollSeconds: Math.min(Math.max(Math.round(res.pollSeconds), 1), MAX_POLL_WAIT_SECONDS),
  };
});
