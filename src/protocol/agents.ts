// Wire schemas of the agent lifecycle (DESIGN §5): register, heartbeat, deregister, admin listing.
// Built at first use (z.lazy, see ./index.ts).
import * as z from 'zod';
import { CapabilityDescriptor, jsonBytes, MAX_DESCRIPTORS_BYTES } from './capabilities.ts';
import { AgentId, Capability, TaskId, TenantName } from './names.ts';

export const MAX_CAPABILITIES = 64;

export const RegisterRequest = z.lazy(() =>
  z
    .object({
      agentId: AgentId,
      tenant: TenantName,
      capabilities: z.array(Capability).max(MAX_CAPABILITIES),
      /**
       * What the agent says about its capabilities (the catalog's descriptions and input schemas).
       * Optional: an agent that sends only names is listed without a description.
       */
      descriptors: z.array(CapabilityDescriptor).max(MAX_CAPABILITIES).optional(),
      identityHash: z.string().regex(/^[a-f0-9]{64}$/, 'must be a lowercase hex SHA-256'),
      version: z.string().min(1).max(64),
      os: z.string().min(1).max(64),
    })
    .superRefine((reg, ctx) => {
      if (reg.descriptors === undefined) return;
      const named = new Set(reg.capabilities);
      const seen = new Set<string>();
      reg.descriptors.forEach((d, i) => {
        if (!named.has(d.name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['descriptors', i, 'name'],
            message: 'must be one of capabilities',
          });
        } else if (seen.has(d.name)) {
          ctx.addIssue({ code: 'custom', path: ['descriptors', i, 'name'], message: 'is described twice' });
        }
        seen.add(d.name);
      });
      if (jsonBytes(reg.descriptors) > MAX_DESCRIPTORS_BYTES) {
        ctx.addIssue({
          code: 'custom',
          path: ['descriptors'],
          message: `must serialize to at most ${MAX_DESCRIPTORS_BYTES} bytes together`,
        });
      }
    }),
);
export type RegisterRequest = z.infer<typeof RegisterRequest>;

export const DEFAULT_HEARTBEAT_SECONDS = 10;
export const DEFAULT_POLL_SECONDS = 25;
/** An agent missing this many heartbeat intervals is lost; its leases are released. */
export const LOST_AFTER_MISSED_HEARTBEATS = 3;

export const RegisterResponse = z.lazy(() =>
  z.object({
    agentId: AgentId,
    heartbeatSeconds: z.number().positive(),
    pollSeconds: z.number().nonnegative(),
  }),
);
export type RegisterResponse = z.infer<typeof RegisterResponse>;

/** At most this many task ids in one heartbeat's `running` and in each list of its answer. */
export const MAX_TASKS_PER_HEARTBEAT = 64;
/** At most this many cancelled task ids in one heartbeat answer (an agent runs one task at a time). */
export const MAX_CANCELS_PER_HEARTBEAT = MAX_TASKS_PER_HEARTBEAT;

/**
 * The heartbeat body is optional (an old agent sends `{}` or `{busy}`); an agent may say whether it
 * is executing a task, and which tasks it is running: the hive renews each one's lease that this
 * agent still holds (lease renewal: a task may run longer than one lease).
 */
export const HeartbeatRequest = z.lazy(() =>
  z.object({
    busy: z.boolean().optional(),
    running: z.array(TaskId).max(MAX_TASKS_PER_HEARTBEAT).optional(),
  }),
);
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const HeartbeatResponse = z.lazy(() =>
  z.object({
    drain: z.boolean(),
    /**
     * Tasks leased to this agent that their submitter cancelled while the lease lasts: the agent
     * stops them (the skill's signal aborts); a result it still posts is discarded. Absent when none.
     */
    cancel: z.array(TaskId).max(MAX_CANCELS_PER_HEARTBEAT).optional(),
    /**
     * Tasks named in `running` whose lease this agent still held: each now runs until the answer's
     * time plus the hive's lease seconds. Absent when none (and from a hive that does not renew).
     */
    renewed: z.array(TaskId).max(MAX_TASKS_PER_HEARTBEAT).optional(),
    /**
     * Tasks named in `running` this agent no longer holds (its lease ran out and was requeued or taken
     * by another agent, or the task is unknown or finished): the agent stops them and posts nothing.
     * A task cancelled while leased is named in `cancel` instead. Absent when none.
     */
    lost: z.array(TaskId).max(MAX_TASKS_PER_HEARTBEAT).optional(),
  }),
);
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>;

export const AgentState = z.lazy(() => z.enum(['live', 'draining', 'lost', 'gone']));
export type AgentState = z.infer<typeof AgentState>;

export const AgentView = z.lazy(() =>
  z.object({
    agentId: AgentId,
    tenant: TenantName,
    capabilities: z.array(Capability),
    state: AgentState,
    lastHeartbeat: z.string(),
  }),
);
export type AgentView = z.infer<typeof AgentView>;

export const AdminAgentsResponse = z.lazy(() => z.object({ agents: z.array(AgentView) }));
export type AdminAgentsResponse = z.infer<typeof AdminAgentsResponse>;
