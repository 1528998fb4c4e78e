// Sizes of the chaos suites (issue 9): the short form runs inside `npm test` (CHAOS_SCALE unset or
// "short", a few tens of seconds per suite on 2 cores); `npm run test:chaos` sets CHAOS_SCALE=full
// for the full-length soak. Also where each suite drops its figures (one JSON file per suite).
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const FULL = process.env.CHAOS_SCALE === 'full';
export const SCALE_NAME = FULL ? 'full' : 'short';

export const SCALE = FULL
  ? {
      agents: 50,
      tasks: 2_000,
      faultRounds: 3,
      provisionTenants: 50,
      provisionProcesses: 5,
      provisionRounds: 3,
      crashKills: 200,
      crashLanes: 4,
      jailSeconds: 60,
      fuzzRuns: 2_000,
      httpFuzzRequests: 3_000,
      cliProcesses: 60,
      machineModelRuns: 20_000,
      machineModelCommands: 100,
    }
  : {
      agents: 10,
      tasks: 200,
      faultRounds: 1,
      provisionTenants: 4,
      provisionProcesses: 2,
      provisionRounds: 1,
      crashKills: 4,
      crashLanes: 2,
      jailSeconds: 10,
      fuzzRuns: 200,
      httpFuzzRequests: 300,
      cliProcesses: 4,
      machineModelRuns: 300,
      machineModelCommands: 40,
    };

/** Where the suites write their figures: CHAOS_FIGURES_DIR, else a fixed folder under tmp. */
export const FIGURES_DIR = process.env.CHAOS_FIGURES_DIR ?? path.join(tmpdir(), 'clawdie-chaos-figures');

/** Writes one suite's figures (JSON) and prints them, so a run's log carries them too. */
export function reportFigures(suite: string, figures: Record<string, unknown>): void {
  mkdirSync(FIGURES_DIR, { recursive: true });
  const body = { suite, scale: SCALE_NAME, at: new Date().toISOString(), ...figures };
  writeFileSync(path.join(FIGURES_DIR, `${suite}.json`), `${JSON.stringify(body, null, 2)}\n`);
  process.stdout.write(`chaos figures ${suite}: ${JSON.stringify(body)}\n`);
}
