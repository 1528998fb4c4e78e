// Wire schemas of tasks (DESIGN §5): submit, long-poll lease, result, release, read back. Built at
// first use (z.lazy, see ./index.ts).
import * as z from 'zod';
import { AgentId, Capability, TaskId, TenantName } from './names.ts';

/** Default and upper bound of a queued task's time to live. */
export const DEFAULT_TASK_TTL_SECONDS = 300;
const MAX_TASK_TTL_SECONDS = 86_400;
/** Longest server-side wait a long-poll may ask for. */
export const MAX_POLL_WAIT_SECONDS = 60;
export const DEFAULT_LEASE_SECONDS = 60;
/**
 * How deep a task may sit in a chain of tool calls: a task submitted by a tool loop carries its
 * parent's depth + 1, and a loop at this depth offers its model no tools (a `chat` calling `chat`
 * ends here instead of recursing until the TTLs run out). The hive refuses deeper submits.
 */
export const MAX_TOOL_DEPTH = 4;
/** A task's depth in a chain of tool calls (0, the default, for a task no tool loop submitted). */
export const TaskDepth = z.lazy(() =>
  z
    .number()
    .int('must be a whole number')
    .min(0, 'must be at least 0')
    .max(MAX_TOOL_DEPTH, `must be at most ${MAX_TOOL_DEPTH}`),
);

/** Task input and output are arbitrary JSON; the 1 MiB body cap bounds their size. */
const Json: z.ZodType<unknown> = z.unknown();

export const SubmitTaskRequest = z.lazy(() =>
  z.object({
    capability: Capability,
    input: Json,
    ttlSeconds: z.number().int().positive().max(MAX_TASK_TTL_SECONDS).optional(),
    /** Resubmitting with the same key (per tenant) returns the first task instead of a new one. */
    idempotencyKey: z.string().min(1).max(128).optional(),
    /** The tenant to submit as: required for the admin token, must equal a tenant token's own tenant. */
    tenant: TenantName.optional(),
    /** Set by a tool loop: its own task's depth + 1 (absent means 0). */
    depth: TaskDepth.optional(),
  }),
);
export type SubmitTaskRequest = z.infer<typeof SubmitTaskRequest>;

export const SubmitTaskResponse = z.lazy(() => z.object({ taskId: TaskId }));
export type SubmitTaskResponse = z.infer<typeof SubmitTaskResponse>;

/** The body of a `200` long-poll answer: a task leased to the polling agent. */
export const TaskAssignment = z.lazy(() =>
  z.object({
    taskId: TaskId,
    capability: Capability,
    input: Json,
    leaseSeconds: z.number().positive(),
    /** The tenant that submitted it (a shared lane serves several). */
    tenant: TenantName.optional(),
    /** The task's depth in a chain of tool calls, when above 0 (absent means 0). */
    depth: TaskDepth.optional(),
  }),
);
export type TaskAssignment = z.infer<typeof TaskAssignment>;

export const PollQuery = z.lazy(() =>
  z.object({
    wait: z.coerce.number().min(0).max(MAX_POLL_WAIT_SECONDS).optional(),
  }),
);

export const ResultStatus = z.lazy(() => z.enum(['ok', 'error']));
export type ResultStatus = z.infer<typeof ResultStatus>;

export const TaskResult = z.lazy(() =>
  z.object({
    status: ResultStatus,
    output: Json,
    /** When given (result post), the lease must be held by this agent. Never part of a TaskView. */
    agentId: AgentId.optional(),
  }),
);
export type TaskResult = z.infer<typeof TaskResult>;

/** Body of `POST /v1/tasks/:id/release` (may be empty); when agentId is given it must hold the lease. */
export const ReleaseRequest = z.lazy(() => z.object({ agentId: AgentId.optional() }));
export type ReleaseRequest = z.infer<typeof ReleaseRequest>;

/**
 * `cancelled`: its submitter (or the admin) cancelled it before it finished (`POST
 * /v1/tasks/:id/cancel`); a result its agent posts afterwards is discarded.
 */
export const TaskState = z.lazy(() =>
  z.enum(['queued', 'leased', 'succeeded', 'failed', 'expired', 'cancelled']),
);
export type TaskState = z.infer<typeof TaskState>;

/** A terminal state never changes again. */
export const isTerminal = (s: TaskState): boolean =>
  s === 'succeeded' || s === 'failed' || s === 'expired' || s === 'cancelled';

/** Body of `POST /v1/tasks/:id/cancel` (may be empty); answered with a TaskAck. */
export const CancelRequest = z.lazy(() => z.object({}));
export type CancelRequest = z.infer<typeof CancelRequest>;

export const TaskView = z.lazy(() =>
  z.object({
    taskId: TaskId,
    capability: Capability,
    state: TaskState,
    result: TaskResult.optional(),
  }),
);
export type TaskView = z.infer<typeof TaskView>;

/** Answer to a result post or a release: the task's state afterwards. */
export const TaskAck = z.lazy(() => z.object({ taskId: TaskId, state: TaskState }));
export type TaskAck = z.infer<typeof TaskAck>;
