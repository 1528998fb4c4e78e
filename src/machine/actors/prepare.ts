// Actor for `resolvingIdentity`: resolves the layered soul, builds the task runner (skills) once the
// identity is known, and loads (or makes) the agent key. Output: {identity, runner, agentKey}.
// Throws IdentityError for an unusable soul, and fails when the state dir is not writable.
import { fromPromise } from 'xstate';
import { type Identity, resolveIdentity } from '../../identity/resolve.ts';
import type { TaskRunner } from '../../skills/task-runner.ts';
import type { AgentDeps } from '../deps.ts';
import { loadOrCreateAgentKey } from './agent-id.ts';

interface PrepareOutput {
  identity: Identity;
  runner: TaskRunner;
  agentKey: string;
}

export const prepare = fromPromise<PrepareOutput, { deps: AgentDeps }>(async ({ input }) => {
  const { deps } = input;
  const [identity, agentKey] = await Promise.all([
    resolveIdentity({ layers: deps.paths.layers, principal: deps.principal, root: deps.paths.root }),
    loadOrCreateAgentKey(deps.paths.agentKeyFile),
  ]);
  const runner = await deps.createRunner({
    paths: deps.paths,
    log: deps.log,
    identity,
    env: () => deps.secrets.get(),
  });
  return { identity, runner, agentKey };
});
