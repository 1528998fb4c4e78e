// Wire schemas of the capability catalog (DESIGN §5, additive to v1): what an agent may say about
// each capability it registers, and what `GET /v1/capabilities` answers — the capabilities the
// caller can route to right now. The catalog is what the agent loop offers its model as tools and
// what the MCP door lists; one shape for both. Built at first use (z.lazy, see ./index.ts).
import * as z from 'zod';
import { Capability, TenantName } from './names.ts';

/** A description the model reads to choose a tool: long enough for a paragraph, not a manual. */
export const MAX_DESCRIPTION_CHARS = 1024;
/** A capability's input schema (JSON Schema), serialized (UTF-8 bytes of its JSON text). */
export const MAX_INPUT_SCHEMA_BYTES = 16 * 1024;
/**
 * All of one registration's descriptors together, serialized: 64 capabilities at the per-item
 * limits would be ~1.1 MiB, over the 1 MiB body cap, so the sum has its own bound well below it.
 */
export const MAX_DESCRIPTORS_BYTES = 256 * 1024;

/** JSON text size in UTF-8 bytes (what the body cap counts), not UTF-16 units. */
export const jsonBytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v));

/** A JSON Schema object. Only its shape is checked here; the agent validates it at discovery. */
export const InputSchema = z.lazy(() =>
  z.record(z.string(), z.unknown()).refine((s) => jsonBytes(s) <= MAX_INPUT_SCHEMA_BYTES, {
    message: `must serialize to at most ${MAX_INPUT_SCHEMA_BYTES} bytes`,
  }),
);
export type InputSchema = z.infer<typeof InputSchema>;

/** What a registering agent says about one of its capabilities (from the skill's SKILL.md). */
export const CapabilityDescriptor = z.lazy(() =>
  z.object({
    name: Capability,
    description: z.string().min(1).max(MAX_DESCRIPTION_CHARS).optional(),
    inputSchema: InputSchema.optional(),
  }),
);
export type CapabilityDescriptor = z.infer<typeof CapabilityDescriptor>;

/** Who serves a catalog entry for the caller: its own tenant's agents, shared lanes, or both. */
export const ServedBy = z.lazy(() => z.enum(['own', 'lane']));
export type ServedBy = z.infer<typeof ServedBy>;

/**
 * One routable capability as the caller sees it. Its description and schema come from one agent:
 * the caller's own tenant's before a lane's, then the newest registration (the admin: the newest).
 */
export const CatalogEntry = z.lazy(() =>
  z.object({
    name: Capability,
    description: z.string().optional(),
    inputSchema: InputSchema.optional(),
    /**
     * Sorted, no repeats: 'own' when the caller's tenant has a live agent with it, 'lane' when a
     * shared lane has one (for the admin: 'own' when a private tenant's agent serves it).
     */
    servedBy: z.array(ServedBy).min(1),
    /** Live agents (own and lane) that registered it. */
    liveAgents: z.number().int().positive(),
    /** Admin token only: every tenant with a live agent serving it (never shown to a tenant). */
    tenants: z.array(TenantName).optional(),
  }),
);
export type CatalogEntry = z.infer<typeof CatalogEntry>;

/** `GET /v1/capabilities`: sorted by name. */
export const CatalogResponse = z.lazy(() => z.object({ capabilities: z.array(CatalogEntry) }));
export type CatalogResponse = z.infer<typeof CatalogResponse>;
