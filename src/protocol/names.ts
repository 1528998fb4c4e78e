// Names that cross the wire and the host/jail boundary: tenants, agents, capabilities, variables.
// One definition each, shared by the agent, the host helper and the hive coordinator.
import * as z from 'zod';

/** Tenant id == jail name == Vaultwarden collection name (DESIGN §6). */
export const TENANT_NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const TenantName = z
  .string()
  .regex(TENANT_NAME_RE, 'must be 1-63 chars of a-z, 0-9 and "-", starting with a letter or digit');

/** Agent ids are chosen by the agent and stable across restarts; safe in URLs and file names. */
const AGENT_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const AgentId = z
  .string()
  .regex(
    AGENT_ID_RE,
    'must be 1-128 chars of A-Z, a-z, 0-9, ".", "_" and "-", starting with a letter or digit',
  );

/** Capabilities share the skill-name alphabet of the Agent Skills format. */
export const CAPABILITY_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
export const Capability = z
  .string()
  .regex(CAPABILITY_RE, 'must be 1-64 chars of a-z, 0-9 and "-", starting with a letter or digit');

/**
 * Environment variable names (DESIGN §4): the keys of a jail's .env (the host renders them from
 * vault items, the agent parses them), the variables a skill declares, the spawn policy's passEnv.
 */
export const ENV_NAME_RE = /^[A-Z_][A-Z0-9_]*$/;
export const EnvName = z
  .string()
  .regex(ENV_NAME_RE, 'must be a variable name (A-Z, 0-9 and "_", no leading digit)');

/** Task ids are minted by the hive (UUIDs), checked only for shape. */
export const TaskId = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a task id');

export type TenantName = z.infer<typeof TenantName>;
export type AgentId = z.infer<typeof AgentId>;
export type Capability = z.infer<typeof Capability>;
export type EnvName = z.infer<typeof EnvName>;
export type TaskId = z.infer<typeof TaskId>;
