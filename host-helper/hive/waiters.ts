// In-memory registry of open long-polls. A waiter costs one timer and no CPU while it waits. A
// submit hands its new task straight to the longest-waiting eligible poll (reserve + hand: stored
// already leased to it, one write less); a requeue wakes such a poll, which then claims a task from
// the store itself. Wakes that arrive while a waiter is claiming are remembered, and passed on if
// it ends without them, so no task is left queued beside an idle eligible poll.
import type { TaskAssignment } from '../../src/protocol/index.ts';
import { pickWaiter, type Routable, type Server, type WaiterView } from './routing.ts';

/** Why a wait ended: work may be there, time ran out, or the poll must stop (drain, lost, shutdown, 401). */
export type WakeReason = 'wake' | 'handed' | 'timeout' | 'closed' | 'stop' | 'revoked';

export class Waiter implements WaiterView {
  readonly agentId: string;
  readonly tenant: string;
  readonly shared: boolean;
  readonly capabilities: readonly string[];
  readonly since: number;
  woken = false;
  /** A wake or stop that arrived while the waiter was not waiting (claiming from the store). */
  #pending: WakeReason | null = null;
  /** Tasks whose wakes this waiter took; passed on if it ends without using them. */
  wokenFor: Routable[] = [];
  #resolve: ((r: WakeReason) => void) | null = null;
  /** A task leased to this waiter by a submit; set together with the 'handed' wake. */
  handed: TaskAssignment | null = null;

  constructor(agent: Server & { agentId: string }, since: number) {
    this.agentId = agent.agentId;
    this.tenant = agent.tenant;
    this.shared = agent.shared;
    this.capabilities = agent.capabilities;
    this.since = since;
  }

  notify(reason: WakeReason): void {
    const resolve = this.#resolve;
    if (resolve) {
      this.#resolve = null;
      resolve(reason);
    } else if (this.#pending === null || this.#pending === 'wake') {
      this.#pending = reason;
    }
  }

  /** True while the poll is parked in wait() (not claiming, not ended). */
  get waiting(): boolean {
    return this.#resolve !== null;
  }

  /** Gives a task already leased to this agent to the waiting poll; false if it stopped waiting. */
  hand(task: TaskAssignment): boolean {
    if (!this.#resolve) return false;
    this.handed = task;
    this.notify('handed');
    return true;
  }

  /** Starts a claim: wakes taken so far are being used by it; later ones stay pending. */
  beginClaim(): void {
    this.woken = false;
    this.wokenFor = [];
  }

  /** Waits up to `ms`; ends early on notify or when `signal` aborts (client went away). */
  wait(ms: number, signal: AbortSignal): Promise<WakeReason> {
    if (this.#pending !== null) {
      const r = this.#pending;
      this.#pending = null;
      return Promise.resolve(r);
    }
    if (signal.aborted) return Promise.resolve('closed');
    if (ms <= 0) return Promise.resolve('timeout');
    return new Promise<WakeReason>((resolve) => {
      const finish = (r: WakeReason): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#resolve = null;
        resolve(r);
      };
      const onAbort = (): void => finish('closed');
      const timer = setTimeout(() => finish('timeout'), ms);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#resolve = finish;
    });
  }
}

export class WaiterRegistry {
  readonly #waiters: Waiter[] = [];

  get size(): number {
    return this.#waiters.length;
  }

  add(w: Waiter): void {
    this.#waiters.push(w);
  }

  /**
   * Removes a waiter. Wakes that reached it while it was claiming are passed on to the next eligible
   * waiter: its claim may have taken another task, and a spare wake only costs one empty claim,
   * while a dropped one would leave a task queued beside an idle poll.
   */
  remove(w: Waiter): void {
    const i = this.#waiters.indexOf(w);
    if (i !== -1) this.#waiters.splice(i, 1);
    const unused = w.wokenFor;
    w.wokenFor = [];
    for (const task of unused) this.wake(task);
  }

  /**
   * Reserves the longest-waiting eligible poll that is parked right now, for a direct handoff;
   * `unreserve` if the handoff does not happen. Null if none.
   */
  reserve(task: Routable): Waiter | null {
    const parked = this.#waiters.filter((w) => w.waiting);
    const i = pickWaiter(parked, task);
    if (i === -1) return null;
    const w = parked[i]!;
    w.woken = true;
    return w;
  }

  unreserve(w: Waiter): void {
    w.woken = false;
  }

  /** Wakes the longest-waiting idle waiter that may serve `task`; false if none. */
  wake(task: Routable): boolean {
    const i = pickWaiter(this.#waiters, task);
    if (i === -1) return false;
    const w = this.#waiters[i]!;
    w.woken = true;
    w.wokenFor.push(task);
    w.notify('wake');
    return true;
  }

  /** Ends every waiter matching `pred` with `reason` (drain, lost, token change, shutdown). */
  end(pred: (w: Waiter) => boolean, reason: WakeReason): number {
    let n = 0;
    for (const w of [...this.#waiters]) {
      if (!pred(w)) continue;
      w.notify(reason);
      n++;
    }
    return n;
  }
}
