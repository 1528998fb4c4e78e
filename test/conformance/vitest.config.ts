// Vitest configuration of the conformance run only (its files end in .conformance.ts so the regular
// suite never picks them up without a target; test/integration/hive-conformance.test.ts runs the same
// suites against the reference coordinator).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/conformance/**/*.conformance.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    fileParallelism: false,
  },
});
