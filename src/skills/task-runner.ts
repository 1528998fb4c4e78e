// The contract between the agent machine (which leases tasks) and whatever executes them (skills).
// The machine knows only this interface; the built-in `echo` capability is the first implementation.
import type { CapabilityDescriptor, TaskAssignment, TaskResult } from '../protocol/index.ts';

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
    options?: { ttlSeconds?: number; signal?: AbortSignal },
  ): Promise<TaskResult>;
}

export interface TaskRunner {
  /** Capabilities to register (always includes `echo`). */
  capabilities(): string[];
  /**
   * What to tell the hive about each of `capabilities` (the catalog's descriptions and input
   * schemas); without it, only `echo` is described (descriptors.ts).
   */
  descriptors?(capabilities: readonly string[]): CapabilityDescriptor[];
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
