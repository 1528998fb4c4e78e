// Test runner configuration: every suite in one run; integration tests start real processes, so
// they get generous timeouts and run in forked workers (two at a time). Every run is leak-scanned
// as a whole (test/support/leak-run: TMPDIR, spawns, output and files of all suites; DESIGN §9).
import { defineConfig } from 'vitest/config';

const CONSOLE_HOOK = Symbol.for('clawdie.leak-run.console');

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'host-helper/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'test/bench/**'],
    pool: 'forks',
    // Two files at a time on 2 cores (vitest's default there is one): most suites wait on real
    // processes, timers and sockets rather than compute. Measured on the 2-core dev box, whole run:
    // 585 s with one worker, 325 s with two, both green and leak-clean.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The close includes the run-wide leak scan (~2 s idle, ~12 s on a loaded 2-core machine).
    teardownTimeout: 60_000,
    globalSetup: ['test/support/leak-run/global.ts'],
    setupFiles: ['test/support/leak-run/worker.ts'],
    onConsoleLog(log, type) {
      const capture = (globalThis as Record<symbol, unknown>)[CONSOLE_HOOK];
      if (typeof capture === 'function') capture(`${type}: ${log}`);
    },
  },
});
