// Actor watching the env file for the whole life of the machine (awaiting, rotation, removal).
// Sends env.valid / env.missing / env.invalid to the machine; logs each distinct refusal once.
import { fromCallback } from 'xstate';
import type { AgentEnv } from '../../secrets/env-schema.ts';
import { watchEnvFile } from '../../secrets/watch.ts';
import type { AgentDeps } from '../deps.ts';

export type SecretsEvent =
  | { type: 'env.valid'; env: AgentEnv; fingerprint: string }
  | { type: 'env.missing' }
  | { type: 'env.invalid'; reason: string };

export const watchSecrets = fromCallback<SecretsEvent, { deps: AgentDeps }>(({ input, sendBack }) => {
  const { deps } = input;
  const file = deps.paths.envFile;
  const told = new Set<string>();
  return watchEnvFile({
    file,
    uid: deps.principal.uid,
    pollMs: deps.tuning.envPollMs,
    onVerdict: (v) => {
      if (v.status === 'valid') {
        told.clear();
        deps.log.info({ file }, 'env file accepted');
        sendBack({ type: 'env.valid', env: v.env, fingerprint: v.fingerprint });
        return;
      }
      const line = `env file ${file} ${v.reason}`;
      if (!told.has(line)) {
        told.add(line);
        deps.log[v.status === 'missing' ? 'info' : 'warn']({ file }, line);
      }
      sendBack(v.status === 'missing' ? { type: 'env.missing' } : { type: 'env.invalid', reason: v.reason });
    },
  });
});
