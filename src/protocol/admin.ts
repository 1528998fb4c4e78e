// Wire schemas of the host-only admin API (DESIGN §5) and of the spawn request (DESIGN §8).
import * as z from 'zod';
import { AgentId, Capability } from './names.ts';

export const MintTokenRequest = z.object({
  /** A shared tenant is a capability lane: its agents serve every tenant's tasks. */
  shared: z.boolean().optional(),
});
export type MintTokenRequest = z.infer<typeof MintTokenRequest>;

export const MintTokenResponse = z.object({ token: z.string().min(32) });
export type MintTokenResponse = z.infer<typeof MintTokenResponse>;

export const SpawnRequest = z.object({
  parent: AgentId,
  capabilities: z.array(Capability).max(64),
});
export type SpawnRequest = z.infer<typeof SpawnRequest>;
