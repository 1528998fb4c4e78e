// What a failed registration means for the agent (DESIGN §3, §5): back off and register again,
// wait in awaitingSecrets for a changed `.env`, or stop as unrecoverable config (`failed`, exit 1).
// One pure decision over the typed hive error, so the machine's transitions only name the outcome.
// An invalid or refused `.env` never ends the agent: `fail` is kept for what no `.env` can mend.
import { isHiveError } from '../hive/errors.ts';

export type RegisterOutcome = 'retry' | 'awaitEnv' | 'fail';

/**
 * The one registration field the hive may name that comes from the `.env` (CLAWDIE_TENANT). Every
 * other field (agentId, capabilities, descriptors, identityHash, version, os, the body itself) is
 * built by the agent from its key, its skills and its build: a hive refusing one refuses this
 * agent, not its `.env`.
 */
const ENV_FIELD = 'tenant';

/** 426 Upgrade Required: the hive refuses this agent's version (no `.env` changes that). */
const UPGRADE_REQUIRED = 426;

/**
 * The outcome of a registration that failed with `err`, answer by answer:
 * - 408, 429, 5xx, network, timeout, a malformed answer, a 401 for a token the `.env` has replaced
 *   meanwhile: retry (backoff).
 * - 401 (token unknown or revoked), 403 (the token is another tenant's than CLAWDIE_TENANT, or the
 *   agent id — tenant plus key — belongs to another tenant), no credentials: awaitEnv. These are
 *   answers about the `.env`'s credentials; the same file gets the same answer.
 * - 409: retry (the hive's own state; registering is idempotent per agent id).
 * - 426, or the hive's 400 naming a field the agent built: fail (agent and hive disagree on the
 *   protocol, or the skills declare what the hive refuses; a restart with another build or soul
 *   is needed, and the crash-loop breaker paces those restarts).
 * - Any other answer in the hive's own error shape (404 "no such route": CLAWDIE_HIVE_URL's path is
 *   wrong; a 400 naming the tenant or no field; 405, 413, 431…): awaitEnv, since the hive itself
 *   refused what this `.env` leads to and nothing in this process changes until the file does.
 * - Any other 4xx not in the hive's shape (a proxy in front of the hive mid-deploy, or a server
 *   that is not a hive): retry; it may pass, and a changed `.env` still applies at once.
 * - Not a hive error at all (a fault of the agent's own code or runner): fail.
 */
export function registerOutcome(err: unknown): RegisterOutcome {
  if (!isHiveError(err)) return 'fail';
  if (err.kind === 'retryable') return 'retry';
  switch (err.reason) {
    case 'unauthorized':
    case 'forbidden':
    case 'no-credentials':
      return 'awaitEnv';
    case 'conflict':
    case 'aborted':
      return 'retry';
  }
  if (err.status === UPGRADE_REQUIRED) return 'fail';
  if (!err.answer) return 'retry';
  const field = err.answer.field?.split('.')[0];
  return field === undefined || field === ENV_FIELD ? 'awaitEnv' : 'fail';
}
