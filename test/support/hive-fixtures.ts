// Test support: the agent registration the hive tests use over and over (an 'echo' agent with a
// fixed identity hash), so store, coordinator and PostgreSQL tests describe it once.
import type { RegisterRequest } from '../../src/protocol/agents.ts';

/** A registration of an 'echo' agent of `tenant` (acme unless told). */
export const echoAgent = (agentId: string, tenant = 'acme'): RegisterRequest => ({
  agentId,
  tenant,
  capabilities: ['echo'],
  identityHash: 'a'.repeat(64),
  version: '1',
  os: 'x',
});
