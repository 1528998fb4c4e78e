// Test-only entry point: the real clawdie-agent CLI in this process (no wrapper), with a runner
// that adds a `chaos` capability recording every execution: one line `<key> <taskId>` appended
// (O_APPEND, one write) to CHAOS_EXEC_LOG before answering { key }, after a short random pause
// so tasks are in flight when faults strike. The suite counts executions per idempotency key.
import { appendFileSync } from 'node:fs';
import { runAsProcess } from '../../src/cli.ts';
import type { TaskRunner } from '../../src/skills/task-runner.ts';

const log = process.env.CHAOS_EXEC_LOG ?? '';

const countingRunner: TaskRunner = {
  capabilities: () => ['echo', 'chaos'],
  run: (task, ctx) =>
    new Promise((resolve) => {
      if (task.capability === 'echo') return resolve({ status: 'ok', output: task.input });
      const key = String((task.input as { key?: unknown } | null)?.key ?? '');
      if (log) appendFileSync(log, `${key} ${task.taskId}\n`);
      const timer = setTimeout(() => resolve({ status: 'ok', output: { key } }), Math.random() * 40);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve({ status: 'error', output: { message: 'aborted' } });
      });
    }),
};

await runAsProcess(process.argv.slice(2), { createRunner: () => countingRunner });
