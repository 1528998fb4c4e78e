// Tool loop benchmark (issue 16), `npm run bench -- loop`: what one tool step costs when a model
// calls a capability through the hive, against a direct borrow of the same capability, in one run.
// The reference hive and a lane agent (a real `clawdie-agent run` process serving `echo` for every
// tenant) run as processes; this process is the calling agent: a prompt skill's loop (runPrompt,
// the fake provider over real HTTP/SSE) whose model calls `echo` once and then answers. Reported,
// p50/p95 over ROUNDS interleaved rounds:
// - the tool step as the loop records it (call checks, step key, submit, read back, result shaping);
// - the direct borrow: submit + read back of the same capability and input (the baseline);
// - the whole loop (two model turns and the step) for scale.
// Both go through the same borrow path and its read-back cadence (100 ms, then doubling), so the
// ratio shows the loop's own overhead per step, not the hive's. Bounded: ROUNDS (default 30).
import { loadavg } from 'node:os';
import { startFakeLlm } from '../../host-helper/demo/services/fake-llm.ts';
import { borrow } from '../../src/hive/borrow.ts';
import { HiveClient } from '../../src/hive/client.ts';
import { realSleep } from '../../src/machine/deps.ts';
import type { TaskResult } from '../../src/protocol/index.ts';
import { providerFromEnv } from '../../src/providers/select.ts';
import { runPrompt } from '../../src/skills/prompt.ts';
import type { TaskContext } from '../../src/skills/task-runner.ts';
import { envText, makeRoot, removeRoot, startAgent, writeEnv } from '../integration/agent-process.ts';
import { startHive } from '../support/hive-process.ts';

const ROUNDS = Number(process.env.CLAWDIE_BENCH_ROUNDS ?? 30);

const pct = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
};
const fmt = (xs: number[]): string => `p50 ${pct(xs, 0.5).toFixed(1)} ms, p95 ${pct(xs, 0.95).toFixed(1)} ms`;

const hive = await startHive();
const fake = await startFakeLlm();
const root = makeRoot();
const lane = await (async () => {
  const token = await hive.mintToken('lane-bench', { shared: true });
  writeEnv(root, envText({ url: hive.url, token, tenant: 'lane-bench' }));
  const agent = startAgent(root, { env: { CLAWDIE_LOG_LEVEL: 'warn' } });
  await agent.waitState('running', 30_000);
  return agent;
})();
const token = await hive.mintToken('acme');
const client = new HiveClient({ baseUrl: () => hive.url, token: () => token });
const controller = new AbortController();
const sleep = realSleep;

fake.setReply((req) =>
  req.body.messages?.at(-1)?.role === 'tool' ? 'done' : { toolCalls: [{ name: 'echo', args: { n: 1 } }] },
);
const context: TaskContext = {
  signal: controller.signal,
  env: { OPENROUTER_API_KEY: 'sk-bench-loop', OPENROUTER_BASE_URL: fake.url },
  borrow: (capability, input, o) => borrow(client, capability, input, { ...o, sleep }),
  catalog: async () => [
    { name: 'echo', description: 'Returns its input.', servedBy: ['lane'], liveAgents: 1 },
  ],
};
const skill = {
  name: 'chat',
  body: 'Answer.',
  extensions: { capabilities: ['chat'], env: [], os: [], borrows: [], runs: 'prompt' as const },
};

const stepMs: number[] = [];
const loopMs: number[] = [];
const directMs: number[] = [];
let failures = 0;
try {
  for (let round = -3; round < ROUNDS; round++) {
    const t0 = performance.now();
    const result: TaskResult = await runPrompt({
      skill,
      task: {
        taskId: `bench-${round + 3}-${process.pid}`,
        capability: 'chat',
        input: 'go',
        leaseSeconds: 60,
      },
      context,
      provider: (env) => providerFromEnv(env),
    });
    const t1 = performance.now();
    const steps = (result.output as { steps?: { status: string; ms: number }[] }).steps ?? [];
    const direct = await borrow(client, 'echo', { n: 1 }, { sleep, signal: controller.signal });
    const t2 = performance.now();
    if (result.status !== 'ok' || steps[0]?.status !== 'ok' || direct.status !== 'ok') failures++;
    if (round < 0) continue; // warm-up
    stepMs.push(steps[0]?.ms ?? Number.NaN);
    loopMs.push(t1 - t0);
    directMs.push(t2 - t1);
  }
  const ratio = (p: number) => (pct(stepMs, p) / pct(directMs, p)).toFixed(2);
  const lines = [
    `rounds: ${ROUNDS} (+3 warm-up), ${failures} failed; load average ${loadavg()[0]!.toFixed(2)}`,
    `tool step through the hive (as the loop records it): ${fmt(stepMs)}`,
    `direct borrow of the same capability (baseline):     ${fmt(directMs)}`,
    `ratio step / direct borrow: p50 ${ratio(0.5)}, p95 ${ratio(0.95)}`,
    `whole loop (2 model turns on the fake provider + 1 step): ${fmt(loopMs)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'loop', rounds: ROUNDS, stepP50: pct(stepMs, 0.5), stepP95: pct(stepMs, 0.95), directP50: pct(directMs, 0.5), directP95: pct(directMs, 0.95), loopP50: pct(loopMs, 0.5), loopP95: pct(loopMs, 0.95) })}\n`,
  );
  process.exitCode = failures === 0 ? 0 : 1;
} finally {
  controller.abort();
  lane.child.kill('SIGTERM');
  await lane.exited;
  await client.close();
  await fake.close();
  await hive.stop();
  removeRoot(root);
}
