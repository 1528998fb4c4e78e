// Actor for `resolvingIdentity`: resolves the layered soul and builds the task runner (skills) once
// the identity is known. Output: {identity, runner}. Throws IdentityError for an unusable soul.
import { fromPromise } from 'xstate';
import { resolveIdentity } from '../../identity/resolve.ts';
import type { AgentDeps } from '../deps.ts';

export const prepare = fromPromise(async ({ input }: { input: { deps: AgentDeps } }) => {
  const { deps } = input;
  const identity = await resolveIdentity({ layers: deps.paths.layers, principal: deps.principal });
  const runner = await deps.createRunner({
    paths: deps.paths,
    log: deps.log,
    identity,
    env: () => deps.secrets.get(),
  });
  return { identity, runner };
});
