// The world of one run of the agent machine's model test (./agent-machine-model.test.ts): the real
// machine (its file-system actors replaced: the watcher's verdicts are sent by the test, boot takes
// 100 simulated ms) on the simulated clock and hive of ./sim-hive.ts; the steps a run is made of
// (.env verdicts, hive behaviour, SIGTERM, time passing); the invariants checked after each step;
// and the end of a run (recovery to `running`, one clean stop). Violations are collected and
// thrown by verdict() with the last log lines.
import { type Actor, createActor, fromCallback, fromPromise } from 'xstate';
import { resolvePaths } from '../../src/config/paths.ts';
import { describeError } from '../../src/errors.ts';
import type { Identity } from '../../src/identity/resolve.ts';
import { createLogger } from '../../src/log.ts';
import { type AgentMachine, agentMachine, topStateOf } from '../../src/machine/agent-machine.ts';
import { type AgentDeps, DEFAULT_TUNING } from '../../src/machine/deps.ts';
import { nextDelay } from '../../src/retry/backoff.ts';
import { SecretsBox } from '../../src/secrets/box.ts';
import { parseEnvText } from '../../src/secrets/env-schema.ts';
import { echoRunner } from '../../src/skills/task-runner.ts';
import { CALL_TIMEOUT_MS, SimClock, SimHive } from './sim-hive.ts';

const HOMES = ['http://hive-a.test', 'http://hive-b.test'];
/**
 * A stimulus (a step of the test, a timer set at an earlier instant, a task handed out) may cause
 * at most this many hive calls at its instant; a loop that waits for nothing exceeds it.
 */
const CALLS_PER_STIMULUS = 4;
/** How long a fresh `.env` and a healthy hive may take to bring the agent to `running`. */
const RECOVERY_MS = 120_000;
/** SIGTERM to exit: the drain deadline, then a bounded release and a bounded deregister. */
const SHUTDOWN_BUDGET_MS = DEFAULT_TUNING.drainDeadlineMs + 2 * DEFAULT_TUNING.drainCallMs + 1;
const AFTER_SHUTDOWN = new Set(['draining', 'stopped']);
/** The sim's randomness: backoff waits are half their ceiling. */
const RANDOM = 0.5;
const AFTER_SIGTERM_NEVER = new Set(['register', 'heartbeat', 'poll']);

/**
 * The most registrations an agent left alone for `ms` may make: one at the start, then one after
 * each backoff wait that fits, counted from the first (shortest) wait — a loop that re-registers
 * without going through the growing backoff makes more.
 */
export function registrationsWithin(ms: number): number {
  let n = 1;
  for (let spent = 0, retry = 0; ; retry++) {
    spent += nextDelay(retry, DEFAULT_TUNING.backoff, () => RANDOM) ?? DEFAULT_TUNING.backoff.capMs;
    if (spent > ms) return n;
    n += 1;
  }
}

const identity: Identity = { hash: 'a'.repeat(64), files: [], texts: {}, warnings: [] };

/** The machine with the two boundary actors that touch the file system replaced. */
const machine = agentMachine.provide({
  actors: {
    // The watcher's verdicts are what the test sends; the watcher itself has its own tests.
    watchSecrets: fromCallback(() => () => {}),
    // Boot takes a little simulated time, so steps can land in `resolvingIdentity`.
    prepare: fromPromise(async ({ input }: { input: { deps: AgentDeps } }) => {
      await input.deps.sleep(100, new AbortController().signal);
      return { identity, runner: echoRunner, agentKey: 'abcdef012345' };
    }),
  },
});

/** Top-level states any run has entered (the test checks the sequences reach them all). */
export const visited = new Set<string>();

/** One run's world: the machine on a simulated clock, the simulated hive, and the invariants. */
export class Sim {
  readonly clock = new SimClock();
  readonly secrets = new SecretsBox();
  readonly hive = new SimHive(this.clock, this.secrets);
  readonly actor: Actor<AgentMachine>;
  readonly log: string[] = [];
  readonly violations: string[] = [];
  /** Tokens the agent was given in a valid `.env`. */
  readonly given = new Set<string>();
  /** Steps of the test per simulated instant. */
  readonly steps = new Map<number, number>();
  state = '';
  done = false;
  completions = 0;
  shutdowns = 0;
  #callsSeen = 0;
  #callsAtShutdown: number | undefined;
  #callsAtEnd: number | undefined;
  #tokenNo = 0;
  #token: string | undefined;
  #home = HOMES[0]!;
  #verdict = '';
  #taskNo = 0;
  /** Register calls since the last step of the test, and when that step was. */
  #registersSinceStep = 0;
  #lastStepAt = 0;

  constructor() {
    const deps: AgentDeps = {
      paths: resolvePaths({ root: '/nonexistent-model-root' }),
      log: createLogger({ name: 'model', level: 'info', destination: { write: (s) => this.#keep(s) } }),
      hive: this.hive,
      secrets: this.secrets,
      createRunner: () => echoRunner,
      principal: { uid: process.getuid?.() ?? 0, gids: [] },
      version: '0.0.0-model',
      os: process.platform,
      now: () => this.clock.now,
      random: () => RANDOM,
      sleep: this.clock.sleep,
      tuning: DEFAULT_TUNING,
    };
    this.actor = createActor(machine, { input: deps, clock: this.clock });
    this.actor.subscribe({
      next: (snap) => {
        const top = topStateOf(snap);
        if (top !== this.state) {
          this.state = top;
          visited.add(top);
          if (top === 'failed') this.violations.push(`failed: ${snap.context.failure}`);
          if (this.shutdowns > 0 && !AFTER_SHUTDOWN.has(top)) this.violations.push(`${top} after SIGTERM`);
        }
        if (snap.status === 'done' && !this.done) {
          this.done = true;
          this.#callsAtEnd = this.hive.calls.length;
        }
      },
      complete: () => {
        this.completions += 1;
      },
      error: (err) => this.violations.push(`machine error: ${describeError(err)}`),
    });
    this.actor.start();
  }

  #keep(line: string): void {
    this.log.push(line);
    if (this.log.length > 80) this.log.shift();
  }

  // ---- the steps ----

  env(kind: 'valid' | 'rotate' | 'otherHome' | 'otherTenantsToken' | 'invalid' | 'missing'): void {
    if (kind === 'invalid') {
      this.#verdictIs('invalid', { type: 'env.invalid', reason: 'is invalid' });
      return;
    }
    if (kind === 'missing') {
      this.#verdictIs('missing', { type: 'env.missing' });
      return;
    }
    if (kind === 'otherTenantsToken') this.#mint(true);
    else if (kind === 'rotate' || !this.#token) this.#mint();
    if (kind === 'otherHome') this.#home = HOMES.find((h) => h !== this.#home)!;
    const parsed = parseEnvText(
      `CLAWDIE_TENANT=acme\nCLAWDIE_HIVE_URL=${this.#home}\nCLAWDIE_HIVE_TOKEN=${this.#token}\n` +
        `OPENROUTER_API_KEY=sk-model-${this.#tokenNo}\n`,
    );
    if (!parsed.ok) throw new Error(`model .env refused: ${parsed.reason}`);
    this.given.add(this.#token!);
    const key = `valid:${this.#home}:${this.#token}`;
    this.#verdictIs(key, { type: 'env.valid', env: parsed.env, fingerprint: key });
  }

  hiveDoes(kind: 'healthy' | '5xx' | 'timeout' | 'revoke' | 'forget' | 'amnesia' | 'drain' | 'task'): void {
    if (kind === 'healthy' || kind === '5xx' || kind === 'timeout') {
      this.hive.outage = kind === 'healthy' ? 'none' : kind;
      if (kind === 'healthy') this.hive.amnesia = false;
    } else if (kind === 'revoke') this.hive.revoke();
    else if (kind === 'forget') this.hive.known.clear();
    else if (kind === 'amnesia') this.hive.amnesia = true;
    else if (kind === 'drain') this.hive.drainAsked = true;
    else
      this.hive.offer({
        taskId: `t-${++this.#taskNo}`,
        capability: 'echo',
        input: this.#taskNo,
        leaseSeconds: 60,
      });
  }

  sigterm(): void {
    this.shutdowns += 1;
    this.#callsAtShutdown ??= this.hive.calls.length;
    if (!this.done) this.actor.send({ type: 'shutdown' });
  }

  /** Runs one step of the test at the current instant, then lets the agent react. */
  async step(act: () => void): Promise<void> {
    this.steps.set(this.clock.now, (this.steps.get(this.clock.now) ?? 0) + 1);
    this.#lastStepAt = this.clock.now;
    this.#registersSinceStep = 0;
    act();
    await this.settle();
  }

  /** Advances simulated time by `ms`, firing each timer at its own instant; stops early on `until`. */
  async advance(ms: number, until?: () => boolean): Promise<void> {
    const target = this.clock.now + ms;
    for (;;) {
      if (until?.() || this.violations.length > 0) return;
      const due = this.clock.nextDue();
      if (due === undefined || due > target) break;
      this.clock.now = Math.max(this.clock.now, due);
      if (!this.clock.fireDue(500)) {
        this.violations.push(`timers keep re-arming at ${this.clock.now} ms (a loop that waits for nothing)`);
        return;
      }
      await this.settle();
    }
    this.clock.now = target;
  }

  /** Waits until every answer the hive scheduled is delivered and the agent has reacted. */
  async settle(): Promise<void> {
    for (let turn = 0; turn < 200; turn++) {
      await new Promise((r) => setImmediate(r));
      if (this.hive.pending === 0) return this.#check();
    }
    this.violations.push('calls never settle (a loop that waits for nothing)');
  }

  #verdictIs(key: string, event: Parameters<Actor<AgentMachine>['send']>[0]): void {
    // The watcher reports a verdict only when it changes.
    if (key === this.#verdict) return;
    this.#verdict = key;
    if (event.type === 'env.valid') this.hive.epoch += 1;
    if (!this.done) this.actor.send(event);
  }

  /** A new token for the `.env`: this tenant's (the others stop working), or another tenant's. */
  #mint(foreign = false): void {
    this.#token = `tok-${++this.#tokenNo}`;
    if (foreign) this.hive.mintForeign(this.#token);
    else this.hive.mint(this.#token);
  }

  // ---- the invariants ----

  #check(): void {
    const calls = this.hive.calls;
    for (const [i, c] of calls.entries()) {
      if (i < this.#callsSeen) continue;
      if (c.token === undefined) this.violations.push(`hive ${c.kind} without credentials`);
      else if (!this.given.has(c.token)) this.violations.push(`hive ${c.kind} with a token never given`);
      if (i >= (this.#callsAtEnd ?? Number.POSITIVE_INFINITY)) {
        this.violations.push(`hive ${c.kind} after the agent ended`);
      }
      if (i >= (this.#callsAtShutdown ?? Number.POSITIVE_INFINITY) && AFTER_SIGTERM_NEVER.has(c.kind)) {
        this.violations.push(`hive ${c.kind} after SIGTERM`);
      }
    }
    this.#checkRegistrations(this.#callsSeen);
    this.#callsSeen = calls.length;
    const now = this.clock.now;
    const stimuli =
      (this.steps.get(now) ?? 0) + (this.clock.fired.get(now) ?? 0) + (this.hive.handedOut.get(now) ?? 0);
    const atNow = calls.filter((c) => c.at === now).length;
    if (atNow > CALLS_PER_STIMULUS * stimuli) {
      this.violations.push(`${atNow} hive calls at ${now} ms from ${stimuli} stimuli (busy loop)`);
    }
    if (this.completions > 1) this.violations.push(`${this.completions} terminal states`);
  }

  /**
   * Registrations from call `from` on: never again with a `.env` the hive refused at registration
   * (401, 403: same token, no valid `.env` sent since) — the agent waits in awaitingSecrets. The
   * sim decides a refusal when the call is made, so it is known before any later call. And, left
   * alone since the last step of the test, never more often than the growing backoff allows (no
   * busy loop, e.g. against a hive that forgets the agent after every registration).
   */
  #checkRegistrations(from: number): void {
    const refused = new Set<string>();
    for (const [i, c] of this.hive.calls.entries()) {
      if (c.kind !== 'register') continue;
      const key = `${c.token} in .env ${c.epoch}`;
      if (refused.has(key) && i >= from) {
        this.violations.push(`registered again with ${key}, which the hive refused`);
      }
      if (c.status === 401 || c.status === 403) refused.add(key);
      if (i < from) continue;
      this.#registersSinceStep += 1;
      const alone = c.at - this.#lastStepAt;
      // +1: the step itself may have caused one registration (a new .env, the hive forgetting).
      if (this.#registersSinceStep > registrationsWithin(alone) + 1) {
        this.violations.push(`${this.#registersSinceStep} registrations in ${alone} ms alone (busy loop)`);
      }
    }
  }

  /** The end of a run: recovery to `running`, then one clean stop on SIGTERM. */
  async finish(signals: 1 | 2): Promise<void> {
    if (!this.done && this.shutdowns === 0) {
      await this.step(() => {
        this.hive.outage = 'none';
        this.hive.amnesia = false;
        this.hive.drainAsked = false;
        this.env('rotate');
      });
      await this.advance(RECOVERY_MS, () => this.state === 'running' || this.done);
      if (this.state !== 'running' && !(this.done && this.hive.drainDelivered)) {
        this.violations.push(`still ${this.state} ${RECOVERY_MS} ms after a fresh .env with a healthy hive`);
      }
    }
    if (!this.done) {
      for (let i = 0; i < signals; i++) await this.step(() => this.sigterm());
      await this.advance(SHUTDOWN_BUDGET_MS, () => this.done);
      if (!this.done) this.violations.push(`still ${this.state} ${SHUTDOWN_BUDGET_MS} ms after SIGTERM`);
    }
    if (this.state !== 'stopped') this.violations.push(`ended in ${this.state}, not stopped`);
    if (this.completions !== 1) this.violations.push(`${this.completions} terminal states`);
    const calls = this.hive.calls.length;
    await this.advance(CALL_TIMEOUT_MS * 6);
    if (this.hive.calls.length !== calls) this.violations.push('hive calls after the end');
  }

  verdict(): void {
    if (this.violations.length === 0) return;
    throw new Error(`${this.violations.join('\n')}\nlast log lines:\n${this.log.join('')}`);
  }
}
