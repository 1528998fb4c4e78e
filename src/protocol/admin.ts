// Wire schemas of the host-only admin API (DESIGN §5) and of the spawn request (DESIGN §8). Built
// at first use (z.lazy, see ./index.ts), but SpawnRequest, whose shape a skill's request reuses.
import * as z from 'zod';
import { AgentId, Capability, TenantName } from './names.ts';

export const MintTokenRequest = z.lazy(() =>
  z.object({
    /** A shared tenant is a capability lane: its agents serve every tenant's tasks. */
    shared: z.boolean().optional(),
  }),
);
export type MintTokenRequest = z.infer<typeof MintTokenRequest>;

export const MintTokenResponse = z.lazy(() => z.object({ token: z.string().min(32) }));
export type MintTokenResponse = z.infer<typeof MintTokenResponse>;

/**
 * `GET /v1/admin/tenants/:tenant/descendants`: every tenant spawned from it, directly or through its
 * children, in any lineage state, parents before children (empty when the spawn policy is off).
 */
export const AdminDescendantsResponse = z.lazy(() => z.object({ tenants: z.array(TenantName) }));
export type AdminDescendantsResponse = z.infer<typeof AdminDescendantsResponse>;

/**
 * The capability a parent must serve to ask for a worker: the hive checks the parent registered it
 * (policy `requireSpawnCapability`), and the agent lets only the skill serving it ask (skills/script).
 */
export const SPAWN_CAPABILITY = 'spawn';

/**
 * The longest a spawn may take: the host's executor runs at most this long (policy
 * `executor.timeoutSeconds`), so an agent waits no longer for the answer.
 */
export const MAX_SPAWN_SECONDS = 3600;

export const SpawnRequest = z.object({
  parent: AgentId,
  capabilities: z.array(Capability).max(64),
});
export type SpawnRequest = z.infer<typeof SpawnRequest>;

/** `201` answer to `POST /v1/spawn`: the child tenant, its generation and what it was granted. */
export const SpawnResponse = z.lazy(() =>
  z.object({
    child: TenantName,
    depth: z.number().int().min(1),
    capabilities: z.array(Capability),
  }),
);
export type SpawnResponse = z.infer<typeof SpawnResponse>;
