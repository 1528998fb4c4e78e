// Vitest setup file of the run-wide leak scan (DESIGN §9), run in every test worker before each
// test file: points TMPDIR (so os.tmpdir()) at the run's temp tree, wraps node:child_process to
// record argv, environment secrets and piped output of every spawn, and keeps what tests delete
// under TMPDIR for the final scan. Hooks are installed once per worker process; with them in a
// setup file no test, old or new, can spawn or write a temp file outside the scan's view.
import cp from 'node:child_process';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { inject } from 'vitest';
import { ChildCapture, wrapChildProcess } from './child-capture.ts';
import { Graveyard, wrapRemovals } from './graveyard.ts';
import { RUN_KEY, runLayout } from './layout.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    [RUN_KEY]: string;
  }
}

const INSTALLED = Symbol.for('clawdie.leak-run.installed');
const g = globalThis as { [INSTALLED]?: string };

const root = inject(RUN_KEY);
if (root && g[INSTALLED] !== root) {
  const layout = runLayout(root);
  process.env.TMPDIR = layout.tmp;
  if (g[INSTALLED] === undefined) {
    wrapChildProcess(cp as unknown as Record<string, unknown>, new ChildCapture(layout));
    wrapRemovals(fs as unknown as Record<string, unknown>, new Graveyard(layout));
    syncBuiltinESMExports(); // `import { spawn } from 'node:child_process'` sees the wrappers too
  }
  g[INSTALLED] = root;
}
