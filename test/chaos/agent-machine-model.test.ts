// Model-based test of the agent machine (issue 15): fast-check draws sequences of `.env` verdicts
// (valid, rotated token, another hive, another tenant's token, invalid, missing), hive behaviour
// (healthy, 5xx, timeouts, token revoked, agent forgotten once or after every registration, drain
// asked, a task offered), SIGTERM and the passing of simulated time, and runs them against the
// real machine on a simulated clock (./agent-sim.ts, ./sim-hive.ts).
// After every step: never `failed` (every cause here is recoverable), never a hive call without a
// token the agent was given, no busy loop (at one simulated instant, at most a few calls per
// stimulus; registrations no more often than the growing backoff allows), never a registration
// again with a `.env` the hive refused (401, 403) before a new one came, after a shutdown only
// draining or stopped and no new registration. At the end of each
// run: a fresh `.env` and a healthy hive bring it to `running` (unless the hive drained it), then
// SIGTERM (once or twice) ends it exactly once, in `stopped`, within the drain budget, and it
// calls the hive no more. Short form in `npm test`; CHAOS_SCALE=full (`npm run test:chaos`) runs
// more and longer sequences.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_TUNING } from '../../src/machine/deps.ts';
import { DEFAULT_HEARTBEAT_SECONDS } from '../../src/protocol/agents.ts';
import { nextDelay } from '../../src/retry/backoff.ts';
import { registrationsWithin, Sim, visited } from './agent-sim.ts';
import { reportFigures, SCALE } from './scale.ts';

const totals = { runs: 0, steps: 0, calls: 0, simulatedHours: 0 };

interface Model {
  done: boolean;
}

class Step implements fc.AsyncCommand<Model, Sim> {
  readonly name: string;
  readonly act: (sim: Sim) => void | Promise<void>;

  constructor(name: string, act: (sim: Sim) => void | Promise<void>) {
    this.name = name;
    this.act = act;
  }

  check(model: Readonly<Model>): boolean {
    return !model.done;
  }

  async run(model: Model, sim: Sim): Promise<void> {
    await this.act(sim);
    totals.steps += 1;
    sim.verdict();
    model.done = sim.done;
  }

  toString(): string {
    return this.name;
  }
}

const step = (name: string, act: (sim: Sim) => void): Step => new Step(name, (s) => s.step(() => act(s)));
const envKinds = ['valid', 'rotate', 'otherHome', 'otherTenantsToken', 'invalid', 'missing'] as const;
const hiveKinds = ['healthy', '5xx', 'timeout', 'revoke', 'forget', 'amnesia', 'drain', 'task'] as const;

const steps = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...envKinds).map((k) => step(`env ${k}`, (s) => s.env(k))) },
  { weight: 4, arbitrary: fc.constantFrom(...hiveKinds).map((k) => step(`hive ${k}`, (s) => s.hiveDoes(k))) },
  {
    weight: 5,
    arbitrary: fc
      .constantFrom(50, 500, 5_000, 30_000, 120_000)
      .map((ms) => new Step(`wait ${ms} ms`, (s) => s.advance(ms))),
  },
  { weight: 1, arbitrary: fc.constant(step('SIGTERM', (s) => s.sigterm())) },
);

describe('agent machine, model-based', () => {
  afterAll(() => {
    reportFigures('agent-machine-model', { ...totals, statesVisited: [...visited].sort() });
  });

  it('a 401 answering a token replaced meanwhile is not a refusal of the new one', async () => {
    // Found by the model: the host mints a token (open long-polls with the old one get 401) and
    // writes the .env; when the file is applied before the 401 arrives, that 401 made the agent
    // forget the new, valid secrets and wait for a file that had already come.
    const sim = new Sim();
    try {
      await sim.step(() => sim.env('valid'));
      await sim.advance(1_000, () => sim.state === 'running');
      expect(sim.state).toBe('running');
      await sim.step(() => sim.env('rotate'));
      await sim.advance(5_000);
      expect(sim.state).toBe('running');
      expect(sim.hive.calls.at(-1)).toMatchObject({ kind: 'poll', token: 'tok-2' });
      sim.verdict();
    } finally {
      sim.actor.stop();
    }
  });

  it("a registration refused 403 (another tenant's token) waits for a changed .env, never ends", async () => {
    // Found by the model: a 403 at registration sent the agent to `failed` (exit 1); it is a
    // property of the .env (token and tenant do not belong together), like a 401.
    const sim = new Sim();
    try {
      await sim.step(() => sim.env('otherTenantsToken'));
      await sim.advance(600_000);
      expect(sim.state).toBe('awaitingSecrets');
      expect(sim.hive.calls.map((c) => `${c.kind} ${c.status}`)).toEqual(['register 403']);
      expect(sim.actor.getSnapshot().context.lastError).toBe(
        'hive register answered 403 (forbidden, field tenant)',
      );
      expect(sim.log.filter((l) => l.includes('waiting for a changed .env'))).toHaveLength(1);
      await sim.step(() => sim.env('rotate'));
      await sim.advance(1_000, () => sim.state === 'running');
      expect(sim.state).toBe('running');
      sim.verdict();
    } finally {
      sim.actor.stop();
    }
  });

  it('a hive that forgets the agent after every registration gets them through the growing backoff', async () => {
    // Found by reading: "unknown agent" sent the agent straight back to registering; a hive that
    // accepts registrations and forgets them at once (lagging replicas) made that a busy loop.
    const sim = new Sim();
    const policy = DEFAULT_TUNING.backoff;
    const shortest = nextDelay(0, policy, () => 0.5)!;
    /** The wait before each registration that followed an "unknown agent". */
    const waits = (): number[] => {
      const calls = sim.hive.calls;
      return calls.flatMap((c, i) => {
        const forgot = calls.slice(0, i).findLast((p) => p.status === 404);
        return c.kind === 'register' && forgot ? [c.at - forgot.at] : [];
      });
    };
    try {
      await sim.step(() => sim.env('valid'));
      await sim.advance(1_000, () => sim.state === 'running');
      await sim.step(() => sim.hiveDoes('amnesia'));
      await sim.advance(300_000);
      sim.verdict();
      const grown = waits();
      expect(grown.length).toBeGreaterThan(5);
      expect(grown.length).toBeLessThan(registrationsWithin(300_000));
      // Each wait at least the one before, from the shortest up to the cap (full jitter: half
      // the ceiling with the sim's randomness).
      expect(grown).toEqual([...grown].sort((a, b) => a - b));
      expect(grown[0]).toBe(shortest);
      expect(grown.at(-1)).toBe(policy.capMs / 2);
      // A hive that remembers again: running, and after a stay there (a heartbeat answered) the
      // next "unknown agent" starts the backoff over from its shortest wait.
      await sim.step(() => sim.hiveDoes('healthy'));
      await sim.advance(policy.capMs, () => sim.state === 'running');
      expect(sim.state).toBe('running');
      const beats = sim.hive.calls.length;
      await sim.advance(DEFAULT_HEARTBEAT_SECONDS * 1000);
      expect(
        sim.hive.calls.slice(beats).filter((c) => c.kind === 'heartbeat' && c.status === 200),
      ).toHaveLength(1);
      const before = waits().length;
      await sim.step(() => sim.hiveDoes('forget'));
      await sim.advance(DEFAULT_HEARTBEAT_SECONDS * 1000 + policy.capMs, () => waits().length > before);
      expect(waits().slice(before)).toEqual([shortest]);
      sim.verdict();
    } finally {
      sim.actor.stop();
    }
  });

  it('keeps its invariants over random .env, hive and signal sequences', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.commands([steps], { maxCommands: SCALE.machineModelCommands, size: 'max' }),
        fc.constantFrom(1 as const, 2 as const),
        async (cmds, signals) => {
          const sim = new Sim();
          try {
            await sim.advance(0);
            await fc.asyncModelRun(() => ({ model: { done: false }, real: sim }), cmds);
            await sim.finish(signals);
            sim.verdict();
            totals.runs += 1;
            totals.calls += sim.hive.calls.length;
            totals.simulatedHours += sim.clock.now / 3_600_000;
          } finally {
            sim.actor.stop();
          }
        },
      ),
      { numRuns: SCALE.machineModelRuns },
    );
    // The sequences reach every state a recoverable world can (failed is a violation above).
    expect([...visited].sort()).toEqual(
      [
        'awaitingSecrets',
        'backoff',
        'draining',
        'registering',
        'resolvingIdentity',
        'running',
        'stopped',
      ].sort(),
    );
  }, 600_000);
});
