// The contract between the agent machine (which leases tasks) and whatever executes them (skills).
// The machine knows only this interface; the built-in `echo` capability is the first implementation.
import type {
  CapabilityDescriptor,
  CatalogEntry,
  SpawnResponse,
  TaskAssignment,
  TaskResult,
} from '../protocol/index.ts';

/** What a borrowed task gave back, and which hive task it was (when the borrow path knows). */
export type BorrowResult = TaskResult & { taskId?: string };

/** The largest task output an agent posts: the hive caps bodies at 1 MiB (MAX_BODY_BYTES), with room for the envelope. */
export const MAX_TASK_OUTPUT_BYTES = 900 * 1024;

/** What a running task may use besides its input. */
export interface TaskContext {
  /** Aborted when the lease is lost or a forced shutdown starts. */
  signal: AbortSignal;
  /** The current validated `.env` (rotation applies from the next task). Offered to skills only by declaration. */
  env: Readonly<Record<string, string>>;
  /** This agent's id, when the runtime knows it (the `mother` skill names it as the spawn parent). */
  agentId?: string;
  /** Borrow a capability this agent lacks: submit through the hive and wait for the result. */
  borrow(
    capability: string,
    input: unknown,
    options?: { ttlSeconds?: number; signal?: AbortSignal; idempotencyKey?: string; depth?: number },
  ): Promise<BorrowResult>;
  /**
   * Ask the hive for a worker of this agent (`POST /v1/spawn`, DESIGN §8) through the agent's own
   * hive client: this agent is the parent, never a name the asker gives. Throws a HiveError on a
   * refusal. Only a skill serving the `spawn` capability may use it (script-requests.ts); absent
   * when the runtime has no hive.
   */
  spawn?(capabilities: readonly string[], signal: AbortSignal): Promise<SpawnResponse>;
  /** What this tenant can route to right now (`GET /v1/capabilities`): the tool loop's tools. */
  catalog?(signal: AbortSignal): Promise<CatalogEntry[]>;
}

export interface TaskRunner {
  /** Capabilities to register (always includes `echo`). */
  capabilities(): string[];
  /**
   * What to tell the hive about each of `capabilities` (the catalog's descriptions and input
   * schemas); without it, only `echo` is described (descriptors.ts).
   */
  descriptors?(capabilities: readonly string[]): CapabilityDescriptor[];
  /**
   * How long `task` may run, in ms (its skill's `timeout-seconds` or the default of its kind);
   * undefined when the runner does not say. The agent keeps the task's lease renewed that long.
   */
  timeoutMs?(task: TaskAssignment): number | undefined;
  /** Runs one task; failures of the task itself are returned as `{status: 'error'}`, not thrown. */
  run(task: TaskAssignment, context: TaskContext): Promise<TaskResult>;
}

export const ECHO_CAPABILITY = 'echo';

/** The built-in health-check capability: returns its input unchanged (DESIGN §3). */
export const echoRunner: TaskRunner = {
  capabilities: () => [ECHO_CAPABILITY],
  run: async (task) =>
    task.capability === ECHO_CAPABILITY
      ? { status: 'ok', output: task.input }
      : { status: 'error', output: { message: `capability "${task.capability}" is not served here` } },
};
