// The world of the agent machine's model test, in simulated time: a clock that XState and the
// agent's sleep both use and that the test advances timer by timer (a discrete-event simulation),
// and a hive that answers the agent's calls on that clock — steered by the test (outage 5xx or
// timeout, token revoked or re-minted, a token of another tenant, the agent forgotten once or after
// every registration, asked to drain, a task offered).
// It is a HiveClient (a subclass whose calls never touch the network) because the model drives
// thousands of runs: every answer is delivered on its own event-loop turn, so a retry loop that
// waits for nothing shows up as calls piling up at one simulated instant instead of a hang.
import { HiveClient } from '../../src/hive/client.ts';
import { answeredError, HiveError } from '../../src/hive/errors.ts';
import {
  DEFAULT_HEARTBEAT_SECONDS,
  DEFAULT_POLL_SECONDS,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type RegisterRequest,
  type RegisterResponse,
  type TaskAssignment,
} from '../../src/protocol/index.ts';
import type { SecretsBox } from '../../src/secrets/box.ts';

interface Timer {
  due: number;
  setAt: number;
  fn: () => void;
}

/** XState's Clock, plus stepping from one due timer to the next. */
export class SimClock {
  now = 0;
  #next = 0;
  readonly #timers = new Map<number, Timer>();
  /** Per instant: timers that fired then but were set at an earlier instant (time really passed). */
  readonly fired = new Map<number, number>();

  setTimeout = (fn: () => void, ms: number): number => {
    const id = this.#next++;
    this.#timers.set(id, { due: this.now + Math.max(0, ms), setAt: this.now, fn });
    return id;
  };

  clearTimeout = (id: number): void => {
    this.#timers.delete(id);
  };

  nextDue(): number | undefined {
    let min: number | undefined;
    for (const t of this.#timers.values()) if (min === undefined || t.due < min) min = t.due;
    return min;
  }

  /** Fires the timers due by now, earliest first; false when they keep re-arming for this instant. */
  fireDue(limit: number): boolean {
    for (let n = 0; n < limit; n++) {
      let first: [number, Timer] | undefined;
      for (const e of this.#timers)
        if (e[1].due <= this.now && (!first || e[1].due < first[1].due)) first = e;
      if (!first) return true;
      this.#timers.delete(first[0]);
      if (first[1].setAt < this.now) this.fired.set(this.now, (this.fired.get(this.now) ?? 0) + 1);
      first[1].fn();
    }
    return false;
  }

  sleep = (ms: number, signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const id = this.setTimeout(resolve, ms);
      signal.addEventListener(
        'abort',
        () => {
          this.clearTimeout(id);
          resolve();
        },
        { once: true },
      );
    });
}

export type Outage = 'none' | '5xx' | 'timeout';
export type CallKind = 'register' | 'heartbeat' | 'poll' | 'result' | 'release' | 'deregister';

export interface CallRecord {
  kind: CallKind;
  at: number;
  /** The token the agent's secrets held when it made the call. */
  token: string | undefined;
  /** The hive's `epoch` when the call was made (the test bumps it on each valid `.env` it sends). */
  epoch: number;
  /** The HTTP status the hive decided on (200 for success); undefined while open or without one. */
  status?: number;
}

/** HiveClient's own per-request budget: what a hive that never answers costs a call. */
export const CALL_TIMEOUT_MS = 10_000;

interface HeldPoll {
  token: string;
  answer: (task: TaskAssignment | null) => void;
  refuse: (err: HiveError) => void;
}

/** The error the agent's HiveClient makes of the hive's answer (one builder: answeredError). */
const answered = (kind: CallKind, status: number, code: string, field?: string): HiveError =>
  answeredError(`hive ${kind}`, status, JSON.stringify({ error: { code, message: 'simulated', field } }));
const refused = (kind: CallKind): HiveError => answered(kind, 401, 'unauthorized');

export class SimHive extends HiveClient {
  readonly calls: CallRecord[] = [];
  outage: Outage = 'none';
  /** Tokens the hive accepts (minting a new one revokes the others, as the real hive does). */
  readonly tokens = new Set<string>();
  /** Tokens of another tenant: valid, but registering as this agent's tenant with them is 403. */
  readonly foreign = new Set<string>();
  readonly known = new Set<string>();
  /**
   * Forgets every agent as soon as it registers: each heartbeat and poll is "unknown agent" (404),
   * as with PostgreSQL replicas that lag the primary the registration went to.
   */
  amnesia = false;
  /** Bumped by the test on each valid `.env` it sends; recorded with every call. */
  epoch = 0;
  drainAsked = false;
  /** A heartbeat has answered `drain: true`: the agent was told to leave. */
  drainDelivered = false;
  /** Answers scheduled but not delivered yet. */
  pending = 0;
  /** Per instant: tasks handed out (new work is a stimulus: a result and a new poll follow). */
  readonly handedOut = new Map<number, number>();
  readonly #clock: SimClock;
  readonly #secrets: SecretsBox;
  readonly #queue: TaskAssignment[] = [];
  readonly #held = new Set<HeldPoll>();

  constructor(clock: SimClock, secrets: SecretsBox) {
    super({ baseUrl: () => undefined, token: () => undefined });
    this.#clock = clock;
    this.#secrets = secrets;
  }

  /** The only valid token from now on; open long-polls with another token get 401 (DESIGN §3). */
  mint(token: string): void {
    this.tokens.clear();
    this.tokens.add(token);
    for (const h of [...this.#held]) if (h.token !== token) h.refuse(refused('poll'));
  }

  /** A token the hive accepts, but for another tenant than the agent's `.env` names. */
  mintForeign(token: string): void {
    this.foreign.add(token);
  }

  revoke(): void {
    this.tokens.clear();
    for (const h of [...this.#held]) h.refuse(refused('poll'));
  }

  offer(task: TaskAssignment): void {
    const waiting = [...this.#held][0];
    if (waiting) waiting.answer(task);
    else this.#queue.push(task);
  }

  override register(body: RegisterRequest, signal?: AbortSignal): Promise<RegisterResponse> {
    return this.#call('register', signal, () => {
      this.known.add(body.agentId);
      return {
        agentId: body.agentId,
        heartbeatSeconds: DEFAULT_HEARTBEAT_SECONDS,
        pollSeconds: DEFAULT_POLL_SECONDS,
      };
    });
  }

  /** Renews every lease the agent names (the sim keeps no leases of its own: each is held). */
  override heartbeat(
    agentId: string,
    body: HeartbeatRequest,
    signal?: AbortSignal,
  ): Promise<HeartbeatResponse> {
    return this.#call('heartbeat', signal, () => {
      this.#mustKnow('heartbeat', agentId);
      if (this.drainAsked) this.drainDelivered = true;
      const running = body.running ?? [];
      return running.length > 0 ? { drain: this.drainAsked, renewed: running } : { drain: this.drainAsked };
    });
  }

  override poll(agentId: string, waitSeconds: number, signal?: AbortSignal): Promise<TaskAssignment | null> {
    return this.#call<TaskAssignment | null>('poll', signal, () => {
      this.#mustKnow('poll', agentId);
      return this.#queue.shift() ?? new Hold(waitSeconds * 1000);
    });
  }

  override postResult(_taskId: string, _agentId: string, _r: unknown, signal?: AbortSignal): Promise<void> {
    return this.#call('result', signal, () => undefined);
  }

  override release(_taskId: string, _agentId: string, signal?: AbortSignal): Promise<void> {
    return this.#call('release', signal, () => undefined);
  }

  override deregister(agentId: string, signal?: AbortSignal): Promise<void> {
    return this.#call('deregister', signal, () => {
      this.known.delete(agentId);
    });
  }

  #mustKnow(kind: CallKind, agentId: string): void {
    if (this.amnesia || !this.known.has(agentId)) throw answered(kind, 404, 'not_found', 'agentId');
  }

  #countTask(): void {
    const now = this.#clock.now;
    this.handedOut.set(now, (this.handedOut.get(now) ?? 0) + 1);
  }

  /** Delivers on a later event-loop turn, like a socket would. */
  #later(fn: () => void): void {
    this.pending += 1;
    setImmediate(() => {
      this.pending -= 1;
      fn();
    });
  }

  #call<T>(kind: CallKind, signal: AbortSignal | undefined, answer: () => T | Hold): Promise<T> {
    const token = this.#secrets.get()?.CLAWDIE_HIVE_TOKEN;
    const record: CallRecord = { kind, at: this.#clock.now, token, epoch: this.epoch };
    this.calls.push(record);
    return new Promise<T>((resolve, reject) => {
      let over = false;
      let timer: number | undefined;
      let held: HeldPoll | undefined;
      const end = (deliver: () => void): void => {
        if (over) return;
        over = true;
        if (timer !== undefined) this.#clock.clearTimeout(timer);
        if (held) this.#held.delete(held);
        signal?.removeEventListener('abort', onAbort);
        this.#later(deliver);
      };
      const fail = (err: HiveError): void => {
        if (!over) record.status = err.status;
        end(() => reject(err));
      };
      const onAbort = (): void => fail(new HiveError(`hive ${kind} aborted`, 'aborted'));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      if (!token) return fail(new HiveError('no hive token configured', 'no-credentials'));
      if (this.outage === 'timeout') {
        const err = new HiveError(`hive ${kind} timed out after ${CALL_TIMEOUT_MS} ms`, 'timeout');
        timer = this.#clock.setTimeout(() => fail(err), CALL_TIMEOUT_MS);
        return;
      }
      if (this.outage === '5xx') {
        return fail(answered(kind, 503, 'unavailable'));
      }
      // As the real hive: another tenant's token may not register as this tenant (403, field
      // tenant) nor act as its agents (403, field agentId).
      if (this.foreign.has(token)) {
        return fail(answered(kind, 403, 'forbidden', kind === 'register' ? 'tenant' : 'agentId'));
      }
      if (!this.tokens.has(token)) return fail(refused(kind));
      let value: T | Hold;
      try {
        value = answer();
      } catch (err) {
        return fail(err as HiveError);
      }
      if (!(value instanceof Hold)) {
        if (kind === 'poll' && value !== null) this.#countTask();
        record.status = 200;
        return end(() => resolve(value));
      }
      // A long-poll with nothing to hand out: answered by a task offered later, or empty at `wait`.
      const h: HeldPoll = {
        token,
        answer: (task) => {
          if (task) this.#countTask();
          if (!over) record.status = 200;
          end(() => resolve(task as T));
        },
        refuse: fail,
      };
      held = h;
      this.#held.add(h);
      timer = this.#clock.setTimeout(() => h.answer(null), value.ms);
    });
  }
}

/** A long-poll answer that waits: `ms` until the hive answers 204. */
class Hold {
  readonly ms: number;
  constructor(ms: number) {
    this.ms = ms;
  }
}
