// One hive call made by an actor, remembering the token it went out with. The host rotates a token
// by minting a new one (the hive answers calls with the old one 401 from then on) and rewriting the
// `.env`; when the agent applies the new file before such a 401 arrives, that 401 is about the old
// token, not a refusal of the one in use: it becomes a retryable `stale-token` error instead of
// sending the agent back to wait for a file that has already come.
import { HiveError, isHiveError } from '../../hive/errors.ts';
import type { AgentDeps } from '../deps.ts';

export async function hiveCall<T>(deps: AgentDeps, call: () => Promise<T>): Promise<T> {
  const sent = deps.secrets.get()?.CLAWDIE_HIVE_TOKEN;
  try {
    return await call();
  } catch (err) {
    if (isHiveError(err, 'unauthorized') && deps.secrets.get()?.CLAWDIE_HIVE_TOKEN !== sent) {
      throw new HiveError('hive refused the token the .env has since replaced', 'stale-token', {
        status: err.status,
        cause: err,
      });
    }
    throw err;
  }
}
