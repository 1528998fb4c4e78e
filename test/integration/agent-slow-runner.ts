// Test-only entry point: the real clawdie-agent CLI in this very process (no wrapper process), with a
// task runner that adds a `slow` capability (echo after input.ms milliseconds, abortable) so tests
// can catch the agent mid-task. Production code stays untouched; only tests start this file.
import { runAsProcess } from '../../src/cli.ts';
import type { TaskRunner } from '../../src/skills/task-runner.ts';

const slowRunner: TaskRunner = {
  capabilities: () => ['echo', 'slow'],
  run: (task, ctx) =>
    new Promise((resolve) => {
      if (task.capability === 'echo') return resolve({ status: 'ok', output: task.input });
      const ms = Number((task.input as { ms?: number } | null)?.ms ?? 1_000);
      const timer = setTimeout(() => resolve({ status: 'ok', output: task.input }), ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve({ status: 'error', output: { message: 'aborted' } });
      });
    }),
};

await runAsProcess(process.argv.slice(2), { createRunner: () => slowRunner });
