// The run-wide leak scan's directory layout (DESIGN §9). One run directory per `vitest run`, made by
// the global setup and handed to every worker through vitest's provide/inject:
//
//   <run>/t   TMPDIR of every test worker: each temp root, db, log and status file lands here
//   <run>/g   graveyard: what a test removes under <run>/t is moved here, so it is still scanned
//   <run>/c   captures: vitest's own stdout/stderr, console, spawned argv (argv-<pid>.jsonl) and
//             c/p/<pid>-<n>.{out,err}, the piped stdout/stderr of every process a test spawns
//   <run>/s   the secret registry (secrets seen in spawned processes' environments): never scanned
//
// The path is short on purpose: unix sockets made under TMPDIR must stay under ~100 bytes.
import path from 'node:path';

export interface RunLayout {
  root: string;
  tmp: string;
  grave: string;
  capture: string;
  children: string;
  registry: string;
}

export function runLayout(root: string): RunLayout {
  return {
    root,
    tmp: path.join(root, 't'),
    grave: path.join(root, 'g'),
    capture: path.join(root, 'c'),
    children: path.join(root, 'c', 'p'),
    registry: path.join(root, 's'),
  };
}

/** The provide/inject key under which the global setup hands the run directory to workers. */
export const RUN_KEY = 'clawdieLeakRun';
