// In-process wake-ups for code that waits on a task's state in this coordinator (the MCP door's
// tools/call): a change this process makes to a task — leased by a poll here, finished by a result
// posted here, cancelled here — wakes the task's watchers at once. Changes made by another replica
// sharing the store are not seen here: a watcher also re-reads on its own cadence (mcp/follow.ts).
// No I/O; one Set per watched task, nothing kept for tasks nobody watches.
export class TaskWatch {
  readonly #watchers = new Map<string, Set<() => void>>();

  /** Calls `wake` whenever this process changes `taskId`, until the returned function is called. */
  watch(taskId: string, wake: () => void): () => void {
    let set = this.#watchers.get(taskId);
    if (!set) {
      set = new Set();
      this.#watchers.set(taskId, set);
    }
    set.add(wake);
    return () => {
      const current = this.#watchers.get(taskId);
      if (!current) return;
      current.delete(wake);
      if (current.size === 0) this.#watchers.delete(taskId);
    };
  }

  /** This process changed the task's state (cheap when nobody watches it). */
  changed(taskId: string): void {
    const set = this.#watchers.get(taskId);
    if (!set) return;
    for (const wake of [...set]) wake();
  }

  /** How many tasks are watched right now (for tests). */
  get size(): number {
    return this.#watchers.size;
  }
}
