// The agent's stable id (DESIGN §5: chosen by the agent, stable across restarts) is
// `<tenant>-<key>`, where the random key is kept in the state dir. The key is made at boot, so the
// path from a fresh `.env` to registration does no disk writes; a re-provisioned jail for another
// tenant gets another id from the same key. Read and written synchronously: boot waits on it anyway,
// and a thread-pool round trip per call costs more than the calls.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { replaceFileSync } from '../../status/atomic-file.ts';

const KEY_RE = /^[a-f0-9]{12}$/;

export async function loadOrCreateAgentKey(file: string): Promise<string> {
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (KEY_RE.test(existing)) return existing;
  } catch {
    // missing or unreadable: mint a new one below
  }
  const key = randomBytes(6).toString('hex');
  replaceFileSync(file, `${key}\n`, 0o600, { fsync: true });
  return key;
}

/** Tenant names and keys both fit AgentId's alphabet, and 63 + 1 + 12 stays under its 128 limit. */
export const agentIdOf = (tenant: string, key: string): string => `${tenant}-${key}`;
