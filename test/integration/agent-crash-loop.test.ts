// The crash-loop breaker with the real agent process (DESIGN §10): an agent SIGKILLed during boot
// again and again makes the next start log the breaker line and wait (status.json and
// `clawdie-agent status` show it open); SIGTERM during that wait exits 0 at once and keeps the loop
// remembered; a trial run that stays healthy closes the breaker, and a clean exit leaves it closed.
// Assertions are on log lines and files, not on timing.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, envText, readStatus, runCli, waitUntil, writeEnv } from './agent-process.ts';
import { agentSuite } from './agent-suite.ts';

interface BreakerRecord {
  uncleanEnds: number[];
  trips: number;
  current?: { pid: number };
}

const suite = agentSuite({ heartbeatSeconds: 1, pollSeconds: 2 }, { killAgents: 'afterAll' });
let token: string;

const readRecord = (root: string): BreakerRecord | undefined => {
  try {
    return JSON.parse(
      readFileSync(path.join(root, 'var/db/clawdie/crash-loop.json'), 'utf8'),
    ) as BreakerRecord;
  } catch {
    return undefined;
  }
};

/** Two unclean ends within ten minutes open the breaker; the wait is long unless a test shortens it. */
const KNOBS = {
  CLAWDIE_CRASH_LOOP_THRESHOLD: '2',
  CLAWDIE_CRASH_LOOP_WINDOW_SECONDS: '600',
  CLAWDIE_CRASH_LOOP_DELAY_SECONDS: '600',
  CLAWDIE_CRASH_LOOP_HEALTHY_SECONDS: '0.5',
};

function start(root: string, env: { [k: string]: string } = {}): AgentProcess {
  return suite.launch(root, { env: { ...KNOBS, ...env } });
}

const breakerLine = (l: Record<string, unknown>): boolean =>
  l.level === 40 && String(l.msg).startsWith('crash loop:');

beforeAll(async () => {
  token = await suite.mint('crashy');
});

describe('clawdie-agent crash-loop breaker', () => {
  it('opens after repeated crashes, waits interruptibly, and closes after a healthy run', async () => {
    const root = suite.root();

    // Two boots killed with SIGKILL at their first line after the gate (no .env: it waits for
    // one). The gate writes the start synchronously, so it is on record by then, not a moment later.
    for (let i = 0; i < 2; i++) {
      const a = start(root);
      await a.waitLog((l) => l.msg === 'clawdie-agent starting', 'boot');
      // On record, the breaker still closed (no trip yet).
      expect(readRecord(root)).toMatchObject({ trips: 0, current: { pid: a.child.pid } });
      await a.kill();
    }

    // The third start finds two unclean ends: one clear line, status open, and it waits.
    const waiting = start(root);
    const line = await waiting.waitLog(breakerLine, 'breaker line');
    expect(line).toMatchObject({ uncleanEnds: 2, trips: 1, delaySeconds: 600, windowSeconds: 600 });
    expect(line.msg).toBe(
      'crash loop: 2 unclean ends within 600 s; breaker open, waiting 600 s before booting',
    );
    const status = await waiting.waitState('crashLoopWait');
    expect(status).toMatchObject({ breaker: { state: 'open', uncleanEnds: 2, trips: 1 } });
    const cli = await runCli(['status', '--root', root]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/crash loop: +open \(2 unclean ends, trip 1; boots at 20\d\d-/);

    // SIGTERM during the wait: exit 0 at once (the wait is 600 s), nothing booted, loop remembered.
    waiting.child.kill('SIGTERM');
    expect(await waiting.exited).toEqual({ code: 0, signal: null });
    expect(waiting.output()).toContain('shutdown requested while the crash-loop breaker waits');
    // The machine never started: the status file is still the breaker's.
    expect(readStatus(root)?.state).toBe('crashLoopWait');
    expect(readRecord(root)).toMatchObject({ trips: 1 });
    expect(readRecord(root)?.current).toBeUndefined();

    // With a .env and a short wait: the breaker opens again (trip 2), then a trial run reaches
    // `running`, stays healthy and closes the breaker.
    writeEnv(root, envText({ url: suite.hive.url, token, tenant: 'crashy' }));
    const trial = start(root, { CLAWDIE_CRASH_LOOP_DELAY_SECONDS: '0.2' });
    expect(await trial.waitLog(breakerLine, 'breaker line')).toMatchObject({ trips: 2, delaySeconds: 0.4 });
    await trial.waitLog((l) => l.msg === 'crash-loop wait over: booting (trial run)', 'trial');
    await trial.waitLog((l) => l.msg === 'crash-loop breaker closed: the agent has run healthy', 'closed');
    await waitUntil(
      () => (readStatus(root) as { breaker?: { state: string } } | undefined)?.breaker?.state === 'closed',
      'status shows the breaker closed',
    );
    expect(readStatus(root)?.state).toBe('running');
    await waitUntil(() => readRecord(root)?.trips === 0, 'record closed');
    expect(readRecord(root)).toMatchObject({ uncleanEnds: [], current: { pid: trial.child.pid } });

    // A clean exit leaves no run open, and the next start boots without waiting.
    trial.child.kill('SIGTERM');
    expect(await trial.exited).toEqual({ code: 0, signal: null });
    expect(readRecord(root)).toEqual({ version: 1, uncleanEnds: [], trips: 0 });
    const next = start(root);
    await next.waitState('running');
    // Booted without a wait, with nothing unclean on record.
    expect(readRecord(root)).toMatchObject({ uncleanEnds: [], trips: 0, current: { pid: next.child.pid } });
    expect((readStatus(root) as { breaker?: unknown }).breaker).toEqual({
      state: 'closed',
      uncleanEnds: 0,
      trips: 0,
    });
    next.child.kill('SIGTERM');
    expect(await next.exited).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('counts an exit 1 (unrecoverable config) as unclean', async () => {
    const root = suite.root();
    // A tenant soul layer that is a file, not a directory: the agent fails at identity, exit 1.
    mkdirSync(path.join(root, 'usr/local/etc/clawdie'), { recursive: true });
    writeFileSync(path.join(root, 'usr/local/etc/clawdie/soul'), 'not a dir');
    for (let i = 0; i < 2; i++) {
      const a = start(root);
      expect((await a.exited).code).toBe(1);
      expect(a.output()).toContain('is not a directory');
    }
    expect(readRecord(root)).toMatchObject({ uncleanEnds: [expect.any(Number)], trips: 0 });
    const third = start(root);
    expect(await third.waitLog(breakerLine, 'breaker line')).toMatchObject({ uncleanEnds: 2 });
    third.child.kill('SIGTERM');
    expect((await third.exited).code).toBe(0);
  }, 60_000);
});
