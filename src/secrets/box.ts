// The one place the active secrets live in memory, never in process.env (children must not inherit
// them). The hive client reads the token from here on every request, so a rotated `.env` applies
// from the next request without a restart.
import type { AgentEnv } from './env-schema.ts';

export class SecretsBox {
  #env: AgentEnv | undefined;

  set(env: AgentEnv | undefined): void {
    this.#env = env;
  }

  get(): AgentEnv | undefined {
    return this.#env;
  }

  /** Hides the values from JSON.stringify and util.inspect (logs, status, error dumps). */
  toJSON(): string {
    return '[secrets]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[secrets]';
  }
}
