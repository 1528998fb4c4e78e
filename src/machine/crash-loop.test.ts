// The crash-loop breaker's decisions (pure, time injected) against an independent model of runs,
// and its record file with real files, modes, owners and links.
import { chownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  breakerStatus,
  type CrashLoopPolicy,
  CrashLoopRecord,
  EMPTY_RECORD,
  onCleanExit,
  onHealthy,
  onStart,
  onWaitInterrupted,
  tripDelay,
} from './crash-loop.ts';
import { readCrashLoopRecord, writeCrashLoopRecord } from './crash-loop-file.ts';

const policyArb = fc.record({
  threshold: fc.integer({ min: 1, max: 8 }),
  windowMs: fc.integer({ min: 1_000, max: 1_000_000 }),
  baseDelayMs: fc.integer({ min: 1, max: 100_000 }),
  maxDelayMs: fc.integer({ min: 1, max: 1_000_000 }),
  healthyMs: fc.constant(1_000),
});

type Outcome = 'crash' | 'clean' | 'healthyThenCrash' | 'interruptIfOpen';
const stepArb = fc.record({
  gapMs: fc.integer({ min: 0, max: 2_000_000 }),
  outcome: fc.constantFrom<Outcome>(
    'crash',
    'crash',
    'crash',
    'clean',
    'healthyThenCrash',
    'interruptIfOpen',
  ),
});

describe('crash-loop decisions', () => {
  it('opens only after `threshold` unclean ends since the last clean run, always when the window holds that many, with a capped, growing wait', () => {
    fc.assert(
      fc.property(policyArb, fc.array(stepArb, { maxLength: 40 }), (policy, steps) => {
        let record = EMPTY_RECORD;
        let now = 1_000_000;
        // The model: unclean ends since the last clean run (dated when the next start finds them),
        // and whether the last run ended unclean.
        let sinceClean: number[] = [];
        let crashed = false;
        let lastDelay = 0;
        for (const step of steps) {
          now += step.gapMs;
          if (crashed) sinceClean.push(now);
          crashed = false;
          const v = onStart(record, now, 4242, policy);
          CrashLoopRecord.parse(v.record);
          const inWindow = sinceClean.filter((t) => t > now - policy.windowMs).length;
          if (v.open) {
            expect(sinceClean.length).toBeGreaterThanOrEqual(policy.threshold);
            expect(v.delayMs).toBeLessThanOrEqual(policy.maxDelayMs);
            expect(v.delayMs).toBeGreaterThanOrEqual(Math.min(policy.baseDelayMs, policy.maxDelayMs));
            expect(v.delayMs).toBeGreaterThanOrEqual(lastDelay);
            lastDelay = v.delayMs;
          } else {
            expect(v.delayMs).toBe(0);
          }
          if (inWindow >= policy.threshold) expect(v.open).toBe(true);
          record = v.record;
          switch (step.outcome) {
            case 'crash':
              crashed = true;
              break;
            case 'clean':
              record = onCleanExit(record);
              sinceClean = [];
              lastDelay = 0;
              break;
            case 'healthyThenCrash':
              record = onHealthy(record);
              sinceClean = [];
              crashed = true;
              lastDelay = 0;
              break;
            case 'interruptIfOpen':
              if (v.open) record = onWaitInterrupted(record);
              else crashed = true;
              break;
          }
        }
      }),
    );
  });

  it('a clean exit closes the breaker for the next start, whatever came before', () => {
    const recordArb = fc.record({
      version: fc.constant(1 as const),
      uncleanEnds: fc.array(fc.integer({ min: 0, max: 2_000_000 }), { maxLength: 100 }),
      trips: fc.integer({ min: 0, max: 1_000 }),
      current: fc.option(fc.record({ pid: fc.integer({ min: 1, max: 99_999 }), startedAt: fc.nat() }), {
        nil: undefined,
      }),
    });
    fc.assert(
      fc.property(policyArb, recordArb, fc.integer({ min: 0, max: 4_000_000 }), (policy, r, now) => {
        const after = onStart(onCleanExit(r), now, 1, policy);
        expect(after.open).toBe(false);
        expect(after.delayMs).toBe(0);
        expect(breakerStatus(after.record).state).toBe('closed');
        // A healthy run followed by a crash opens it again only when one crash is enough.
        const crashed = onStart(onHealthy({ ...r, current: { pid: 2, startedAt: 0 } }), now, 1, policy);
        expect(crashed.open).toBe(policy.threshold === 1);
      }),
    );
  });

  it('doubles the wait per trip up to the cap, and a trial that crashes reopens at once', () => {
    const policy: CrashLoopPolicy = {
      threshold: 3,
      windowMs: 600_000,
      baseDelayMs: 60_000,
      maxDelayMs: 600_000,
      healthyMs: 60_000,
    };
    expect([1, 2, 3, 4, 5, 50].map((n) => tripDelay(n, policy))).toEqual([
      60_000, 120_000, 240_000, 480_000, 600_000, 600_000,
    ]);
    let r = EMPTY_RECORD;
    const verdicts = [];
    for (let i = 0; i < 4; i++) {
      const v = onStart(r, 1_000 + i, 7, policy);
      verdicts.push(v);
      r = v.record;
    }
    expect(verdicts.map((v) => v.open)).toEqual([false, false, false, true]);
    expect(verdicts[3]!.uncleanInWindow).toBe(3);
    // Much later (the window forgot the ends), the trial run that crashed still reopens the breaker.
    const trial = onStart(r, 10_000_000, 8, policy);
    expect(trial).toMatchObject({ open: true, delayMs: 120_000, uncleanInWindow: 1 });
    expect(breakerStatus(trial.record, 10_120_000)).toEqual({
      state: 'open',
      uncleanEnds: 1,
      trips: 2,
      retryAt: new Date(10_120_000).toISOString(),
    });
    // Stopped during the wait: not a crash, the trips are kept.
    const stopped = onWaitInterrupted(trial.record);
    expect(stopped.current).toBeUndefined();
    const next = onStart(stopped, 10_000_100, 9, policy);
    expect(next).toMatchObject({ open: false, previousUnclean: false });
    expect(breakerStatus(next.record).state).toBe('trial');
  });

  it('forgets unclean ends dated in the future (a clock set back)', () => {
    const policy: CrashLoopPolicy = {
      threshold: 2,
      windowMs: 2_000,
      baseDelayMs: 1,
      maxDelayMs: 1,
      healthyMs: 1,
    };
    const r: CrashLoopRecord = { version: 1, uncleanEnds: [5_000, 6_000], trips: 0 };
    expect(onStart(r, 100, 1, policy).open).toBe(false);
    expect(onStart(r, 6_000, 1, policy).open).toBe(true);
  });
});

describe('crash-loop record file', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const fresh = (): string => {
    const d = mkdtempSync(path.join(tmpdir(), 'clawdie-crash-loop-'));
    dirs.push(d);
    return d;
  };

  it('round-trips through an atomic 0600 write and reads a missing file as empty without a warning', async () => {
    const dir = fresh();
    const file = path.join(dir, 'state/crash-loop.json');
    expect(readCrashLoopRecord(file)).toEqual({ record: EMPTY_RECORD });
    const r: CrashLoopRecord = {
      version: 1,
      uncleanEnds: [1, 2],
      trips: 1,
      current: { pid: 9, startedAt: 3 },
    };
    await writeCrashLoopRecord(file, r);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readCrashLoopRecord(file)).toEqual({ record: r });
  });

  it('treats a corrupt, foreign, linked or non-regular file as empty, with one warning naming why', () => {
    const dir = fresh();
    let file = '';
    const cases: Array<[string, () => void, RegExp]> = [
      ['not JSON', () => writeFileSync(file, '{"version":'), /is not JSON/],
      [
        'wrong schema',
        () => writeFileSync(file, '{"version":1,"uncleanEnds":[-1],"trips":0}'),
        /uncleanEnds\.0/,
      ],
      ['a link', () => symlinkSync(path.join(dir, 'elsewhere'), file), /symbolic link/],
      ['a directory', () => mkdirSync(file), /not a regular file/],
    ];
    if (process.getuid?.() === 0) {
      cases.push([
        'foreign',
        () => {
          writeFileSync(file, JSON.stringify(EMPTY_RECORD));
          chownSync(file, 4242, 4242);
        },
        /owned by uid 4242/,
      ]);
    }
    for (const [what, plant, why] of cases) {
      file = path.join(dir, `${what.replace(/ /g, '-')}.json`);
      plant();
      const read = readCrashLoopRecord(file);
      expect(read.record, what).toEqual(EMPTY_RECORD);
      expect(read.warning, what).toMatch(why);
      expect(read.warning, what).toContain(file);
    }
  });
});
