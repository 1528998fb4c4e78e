// Chaos on the host side (DESIGN §1, §6), with the real bw, the real hive and the dir backend:
// 1. provisioning under load — tenants provisioned by concurrent batch processes, repeated, with
//    vault faults injected mid-run (slow answers, 5xx, the API key revoked, a collection deleted);
// 2. crash safety — `clawdie-host provision` killed with SIGKILL at random points (and right inside
//    the write, spotted by its temp file appearing): the .env is always the old or the new complete
//    file, and the tenants row is never `active` without a complete file in place.
// Then a leak scan over every output, argv and file the runs produced (see host-harness.ts).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLockHeld } from '../../host-helper/store/process-lock.ts';
import { BW_LOCK_FILE } from '../../host-helper/vault/vault.ts';
import { sampleArgv } from '../support/leak-scan.ts';
import { checkEnv, type Harness, startHarness } from './host-harness.ts';
import { FULL, reportFigures, SCALE } from './scale.ts';

const LOAD = Array.from({ length: SCALE.provisionTenants }, (_, i) => `pl-${String(i + 1).padStart(2, '0')}`);
// Per crash lane a pool of tenants: a tenant whose lock a live run holds is skipped.
const POOL = Math.ceil(SCALE.crashKills / SCALE.crashLanes / 2) + 2;
const CRASH = Array.from({ length: SCALE.crashLanes }, (_, l) =>
  Array.from({ length: POOL }, (_, j) => `kc-${l + 1}-${j + 1}`),
).flat();
const ALL = [...LOAD, ...CRASH];
/**
 * Where a kill lands, by milestone rather than by clock (a clock spends most kills inside bw):
 * early (node start, config, store), in-bw (a bw child is running), write (the temp file just
 * appeared in the jail), after-rename (.env just replaced, before verification and the row).
 */
const PHASES = ['early', 'in-bw', 'write', 'after-rename'] as const;
type Phase = (typeof PHASES)[number];
/** Kill k of lane l (1-based): every lane cycles through all phases, and every round of kills covers them all. */
const phaseOf = (k: number, l: number): Phase => {
  const g = k * SCALE.crashLanes + l - 1;
  return PHASES[(g + Math.floor(g / PHASES.length)) % PHASES.length]!;
};
/** Arms the kill for a phase; returns the disarm function. */
function killAt(phase: Phase, pid: number, home: string, kill: () => void): () => void {
  if (phase === 'early') {
    const t = setTimeout(kill, Math.random() * 1_500);
    return () => clearTimeout(t);
  }
  if (phase === 'in-bw') {
    let t: NodeJS.Timeout | undefined;
    const poll = setInterval(() => {
      let kids = '';
      try {
        kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      } catch {}
      if (kids === '') return;
      clearInterval(poll);
      t = setTimeout(kill, Math.random() * 2_500);
    }, 25);
    return () => {
      clearInterval(poll);
      clearTimeout(t);
    };
  }
  const watcher = fs.watch(home, (_e, file) => {
    const name = String(file);
    if (phase === 'write' ? name.startsWith('.env.clawdie-') : name === '.env') kill();
  });
  return () => watcher.close();
}

/** bw appdata dirs (one host.json each): bw runs one session at a time per dir. */
const APPDATA = Array.from(
  { length: Math.max(SCALE.provisionProcesses, SCALE.crashLanes) + 1 },
  (_, i) => `lane-${i}`,
);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let h: Harness;
let stopArgv: () => number = () => 0;
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  h = await startHarness(ALL);
  stopArgv = sampleArgv(h.scan, 100);
  await batch('register-tenant', ALL);
}, 180_000);

/** Runs `clawdie-host CMD tenants…` in chunks of 100 (the CLI's limit per call), one appdata dir each, in parallel; all must exit 0. */
async function batch(cmd: string, tenants: readonly string[]): Promise<void> {
  const chunks = Array.from({ length: Math.ceil(tenants.length / 100) }, (_, i) =>
    tenants.slice(i * 100, i * 100 + 100),
  );
  const runs = await Promise.all(chunks.map((c, i) => h.run(APPDATA[i]!, [cmd, ...c])));
  for (const r of runs) expect(r.code, r.stderr).toBe(0);
}

afterAll(async () => {
  const argvSampled = stopArgv();
  if (h) {
    await h.close();
    figures.leakScan = { ...h.scan.stats, argvSampled, hits: h.scan.hits().length };
  }
  reportFigures('host-provision', figures);
  h?.scan.assertClean();
}, 120_000);

interface Invariants {
  partial: number;
  crossTenant: number;
  foreign: number;
  leftoverTemps: number;
  activeWithoutFile: number;
  activeShaStale: number;
}

function invariants(tenants: readonly string[]): Invariants {
  const v: Invariants = {
    partial: 0,
    crossTenant: 0,
    foreign: 0,
    leftoverTemps: 0,
    activeWithoutFile: 0,
    activeShaStale: 0,
  };
  for (const t of tenants) {
    const e = checkEnv(h, t, ALL);
    v.crossTenant += e.crossTenant;
    if (e.state === 'foreign') v.foreign += 1;
    else if (e.state !== 'ok' && e.state !== 'none') v.partial += 1;
    v.leftoverTemps += fs.readdirSync(h.homeDir(t)).filter((n) => n !== '.env').length;
    const row = h.row(t);
    if (row?.status === 'active') {
      if (e.state !== 'ok') v.activeWithoutFile += 1;
      else if (e.sha !== row.env_sha256) v.activeShaStale += 1;
    }
  }
  return v;
}

describe('provisioning under load with vault faults', () => {
  it(
    `${LOAD.length} tenants over ${SCALE.provisionProcesses} concurrent processes, faulted rounds then a clean one`,
    async () => {
      const P = SCALE.provisionProcesses;
      const groups = Array.from({ length: P }, (_, g) => LOAD.filter((_, i) => i % P === g));
      const deleted = new Set<string>();
      const rounds: Record<string, unknown>[] = [];
      const faultRounds = SCALE.provisionRounds;
      for (let round = 0; round <= faultRounds; round += 1) {
        const faulted = round < faultRounds;
        for (const t of LOAD) if (!deleted.has(t)) await h.setVersion(t, h.version(t) + 1);
        const started = Date.now();
        const runs = groups.map((g, i) => h.run(APPDATA[i]!, ['provision', ...g, '--json']));
        const injected: string[] = [];
        if (faulted) {
          // Slow answers and a few 5xx right away; the key revoked and a collection deleted mid-run.
          await h.tv.mutate({ op: 'slowNext', count: 12, ms: 400 });
          await h.tv.mutate({ op: 'failNext', count: 2 + round, status: 502 });
          injected.push('slow x12', `502 x${2 + round}`);
          await sleep(1_500 + Math.random() * 3_000);
          const victim = LOAD[(round * 3 + 1) % LOAD.length]!;
          const { collections } = await h.tv.describe();
          const id = collections.find((c) => c.name === victim)?.id;
          if (id) {
            await h.tv.mutate({ op: 'deleteCollection', id });
            deleted.add(victim);
            injected.push(`collection ${victim} deleted`);
          }
          await sleep(Math.random() * 2_000);
          await h.tv.mutate({ op: 'revokeClient' });
          injected.push('API key revoked');
        }
        const results = await Promise.all(runs);
        await h.tv.mutate({ op: 'restoreClient' });
        await h.tv.mutate({ op: 'clearFaults' });
        const inv = invariants(LOAD);
        const active = LOAD.filter((t) => h.row(t)?.status === 'active').length;
        const current = LOAD.filter((t) => checkEnv(h, t, ALL).version === h.version(t)).length;
        rounds.push({
          round: round + 1,
          injected,
          exitCodes: results.map((r) => r.code),
          seconds: Math.round((Date.now() - started) / 1000),
          active,
          currentVersion: current,
          ...inv,
        });
        expect(inv).toMatchObject({
          partial: 0,
          crossTenant: 0,
          foreign: 0,
          leftoverTemps: 0,
          activeWithoutFile: 0,
        });
        // A process that exited 0 wrote its tenants' current values (or found no collection).
        results.forEach((r, i) => {
          if (r.code !== 0) return;
          for (const t of groups[i]!)
            if (!deleted.has(t)) expect(checkEnv(h, t, ALL).version, `${t} after exit 0`).toBe(h.version(t));
        });
        if (!faulted) {
          for (const r of results) expect(r.code, r.stderr).toBe(0);
          // Final states: every tenant with a collection active with a verified current file.
          for (const t of LOAD.filter((x) => !deleted.has(x))) {
            expect(h.row(t)?.status, t).toBe('active');
            const e = checkEnv(h, t, ALL);
            expect([e.state, e.version, e.sha]).toEqual(['ok', h.version(t), h.row(t)?.env_sha256]);
          }
        }
      }
      figures.load = { tenants: LOAD.length, processes: P, rounds };
    },
    FULL ? 1_800_000 : 240_000,
  );
});

describe('crash safety: kill -9 of provision at random points', () => {
  it(
    `${SCALE.crashKills} kills over ${SCALE.crashLanes} lanes: old or new complete .env, never active without it`,
    async () => {
      const tally = {
        runs: 0,
        killed: 0,
        completedBeforeKill: 0,
        killedIn: { early: 0, 'in-bw': 0, write: 0, 'after-rename': 0 } as Record<Phase, number>,
        fileOld: 0,
        fileNew: 0,
        partial: 0,
        activeWithoutFile: 0,
        activeShaStale: 0,
        staleTempsSeen: 0,
        tenantsLeftLocked: 0,
        waitsForLock: 0,
      };
      const runMs: number[] = [];
      const inUse = new Set<string>();
      // The host's locks are SQLite record locks (host-helper/store/process-lock.ts): they die with
      // their holder, so only a live run holds one.
      const vaultLocked = (c: string): Promise<boolean> =>
        isLockHeld(path.join(h.base, `bw-${c}`, BW_LOCK_FILE));
      const locksDir = path.join(path.dirname(h.storePath), 'locks');
      const tenantLocked = (t: string): Promise<boolean> => isLockHeld(path.join(locksDir, `${t}.lock`));
      const lane = async (l: number, kills: number): Promise<void> => {
        const pool = CRASH.filter((t) => t.startsWith(`kc-${l}-`));
        // bw appdata dirs come from a shared pool (logged in by the load test already): one in use,
        // or whose lock a run (of another lane's bw still finishing) holds, is skipped.
        const pick = async (): Promise<string> => {
          let free: string | undefined;
          for (const c of APPDATA) if (!free && !inUse.has(c) && !(await vaultLocked(c))) free = c;
          free ??= APPDATA.find((c) => !inUse.has(c)) ?? APPDATA[l]!;
          inUse.add(free);
          return free;
        };
        for (let k = 0; k < kills; k += 1) {
          // A tenant whose lock a live run holds is skipped, round robin over the pool; when all
          // are held, wait for one to be released.
          let t: string | undefined;
          for (let i = 0; t === undefined; i += 1) {
            for (const x of [...pool.slice(k % pool.length), ...pool.slice(0, k % pool.length)])
              if (!t && !(await tenantLocked(x))) t = x;
            if (t === undefined) {
              tally.waitsForLock += i === 0 ? 1 : 0;
              await sleep(1_000);
            }
          }
          const config = await pick();
          const before = fs.readFileSync(h.envPath(t));
          await h.setVersion(t, h.version(t) + 1);
          const phase = phaseOf(k, l);
          const args = ['provision', t, ...(Math.random() < 0.3 ? ['--rotate-token'] : [])];
          const t1 = Date.now();
          const { child, done } = h.start(config, args);
          let sent = false;
          const kill = (): void => {
            if (sent || child.exitCode !== null) return;
            sent = true;
            child.kill('SIGKILL');
          };
          const stopWatch = killAt(phase, child.pid!, h.homeDir(t), kill);
          const r = await done;
          stopWatch();
          inUse.delete(config);
          runMs.push(Date.now() - t1);
          tally.runs += 1;
          if (r.signal === 'SIGKILL') {
            tally.killed += 1;
            tally.killedIn[phase] += 1;
          } else tally.completedBeforeKill += 1;
          const after = fs.existsSync(h.envPath(t)) ? fs.readFileSync(h.envPath(t)) : null;
          const e = checkEnv(h, t, ALL);
          if (after?.equals(before)) tally.fileOld += 1;
          else if (e.state === 'ok' && e.version === h.version(t)) tally.fileNew += 1;
          else tally.partial += 1;
          const row = h.row(t);
          if (row?.status === 'active') {
            if (e.state !== 'ok') tally.activeWithoutFile += 1;
            else if (e.sha !== row.env_sha256) tally.activeShaStale += 1;
          }
          // A kill inside the write may leave a temp name (never at .env); the next write removes it.
          tally.staleTempsSeen += fs.readdirSync(h.homeDir(t)).filter((n) => n !== '.env').length;
        }
      };
      // Baseline: every crash tenant gets a complete file (one session for all lanes: bw is slow).
      for (const t of CRASH) await h.setVersion(t, h.version(t) + 1);
      await batch('provision', CRASH);
      const per = Math.ceil(SCALE.crashKills / SCALE.crashLanes);
      await Promise.all(Array.from({ length: SCALE.crashLanes }, (_, l) => lane(l + 1, per)));
      // No kill leaves a tenant locked; every tenant converges on a clean run, temps gone.
      const free: string[] = [];
      for (const t of CRASH) if (!(await tenantLocked(t))) free.push(t);
      tally.tenantsLeftLocked = CRASH.length - free.length;
      if (free.length > 0) await batch('provision', free);
      for (const t of free) {
        expect(h.row(t)?.status).toBe('active');
        expect(fs.readdirSync(h.homeDir(t))).toEqual(['.env']);
        const e = checkEnv(h, t, ALL);
        expect([e.state, e.version, e.sha]).toEqual(['ok', h.version(t), h.row(t)?.env_sha256]);
      }
      runMs.sort((a, b) => a - b);
      figures.crash = {
        lanes: SCALE.crashLanes,
        tenants: CRASH.length,
        ...tally,
        runSecondsMedian: Math.round(runMs[runMs.length >> 1]! / 100) / 10,
        runSecondsMax: Math.round(runMs[runMs.length - 1]! / 100) / 10,
      };
      expect(tally.partial).toBe(0);
      expect(tally.activeWithoutFile).toBe(0);
      // `active` names the verified file: a kill between the rename and the row update must not
      // leave `active` (with the previous file's digest) over a file nobody verified.
      expect(tally.activeShaStale).toBe(0);
      expect(tally.killed).toBeGreaterThan(0);
      // The tenant lock dies with its holder (host-helper/store/process-lock.ts): no kill leaves a
      // tenant blocked.
      expect(tally.tenantsLeftLocked).toBe(0);
    },
    FULL ? 3_600_000 : 300_000,
  );
});
