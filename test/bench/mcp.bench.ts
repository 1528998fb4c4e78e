// MCP door benchmark (issue 17), `npm run bench -- mcp`: what one `tools/call` of `echo` costs
// through /mcp, against submit + poll of the same task over the REST API, p50/p95 in one run. The
// reference hive and one real agent (`clawdie-agent run`, serving the built-in echo) run as
// processes; this process is the client. Measured, interleaved round by round:
// - tools/call through the SDK's client, 2026-07-28 era (one stateless POST; the door submits,
//   follows the task and answers);
// - the same through the 2025-era client (stateless fallback, SSE answer with progress);
// - submit + poll as the agents borrow (src/hive/borrow.ts, its read-back cadence);
// - submit + poll at a tight 5 ms cadence (the floor a REST client could reach by polling hard).
// Bounded: ROUNDS (default 40) plus 5 warm-up rounds.
import { loadavg } from 'node:os';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { borrow } from '../../src/hive/borrow.ts';
import { HiveClient } from '../../src/hive/client.ts';
import { realSleep } from '../../src/machine/deps.ts';
import { isTerminal } from '../../src/protocol/index.ts';
import { envText, makeRoot, removeRoot, startAgent, writeEnv } from '../integration/agent-process.ts';
import { startHive } from '../support/hive-process.ts';

const ROUNDS = Number(process.env.CLAWDIE_BENCH_ROUNDS ?? 40);

const pct = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
};
const fmt = (xs: number[]): string => `p50 ${pct(xs, 0.5).toFixed(1)} ms, p95 ${pct(xs, 0.95).toFixed(1)} ms`;

const hive = await startHive();
const root = makeRoot();
const token = await hive.mintToken('acme');
writeEnv(root, envText({ url: hive.url, token }));
const agent = startAgent(root, { env: { CLAWDIE_LOG_LEVEL: 'warn' } });
const rest = new HiveClient({ baseUrl: () => hive.url, token: () => token });
const controller = new AbortController();

async function mcpClient(era: 'legacy' | 'modern'): Promise<Client> {
  const client = new Client(
    { name: 'bench', version: '1' },
    era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${hive.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

/** Submit, then read back every 5 ms until the task ends. */
async function tightPoll(input: unknown): Promise<boolean> {
  const { taskId } = await rest.submitTask({ capability: 'echo', input });
  for (;;) {
    const view = await rest.getTask(taskId);
    if (isTerminal(view.state)) return view.state === 'succeeded';
    await realSleep(5, controller.signal);
  }
}

const times = {
  modern: [] as number[],
  legacy: [] as number[],
  borrow: [] as number[],
  tight: [] as number[],
};
let failures = 0;
try {
  await agent.waitState('running', 30_000);
  const [modern, legacy] = [await mcpClient('modern'), await mcpClient('legacy')];
  const timed = async (into: number[] | null, run: () => Promise<boolean>): Promise<void> => {
    const t0 = performance.now();
    if (!(await run())) failures++;
    if (into) into.push(performance.now() - t0);
  };
  for (let round = -5; round < ROUNDS; round++) {
    const keep = round >= 0;
    const input = { n: round };
    await timed(
      keep ? times.modern : null,
      async () => !(await modern.callTool({ name: 'echo', arguments: input })).isError,
    );
    await timed(
      keep ? times.legacy : null,
      async () => !(await legacy.callTool({ name: 'echo', arguments: input })).isError,
    );
    await timed(
      keep ? times.borrow : null,
      async () =>
        (await borrow(rest, 'echo', input, { sleep: realSleep, signal: controller.signal })).status === 'ok',
    );
    await timed(keep ? times.tight : null, () => tightPoll(input));
  }
  await Promise.all([modern.close(), legacy.close()]);
  const ratio = (xs: number[], p: number) => (pct(times.modern, p) / pct(xs, p)).toFixed(2);
  const lines = [
    `rounds: ${ROUNDS} (+5 warm-up), ${failures} failed; load average ${loadavg()[0]!.toFixed(2)} (2 cores)`,
    `tools/call echo, 2026-07-28 era:          ${fmt(times.modern)}`,
    `tools/call echo, 2025 era (stateless):    ${fmt(times.legacy)}`,
    `submit + poll as agents borrow (baseline): ${fmt(times.borrow)}`,
    `submit + poll every 5 ms:                 ${fmt(times.tight)}`,
    `ratio tools/call (2026) / borrow: p50 ${ratio(times.borrow, 0.5)}, p95 ${ratio(times.borrow, 0.95)}`,
    `ratio tools/call (2026) / 5 ms poll: p50 ${ratio(times.tight, 0.5)}, p95 ${ratio(times.tight, 0.95)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const summary: Record<string, unknown> = { bench: 'mcp', rounds: ROUNDS, load: loadavg()[0] };
  for (const [k, xs] of Object.entries(times))
    Object.assign(summary, { [`${k}P50`]: pct(xs, 0.5), [`${k}P95`]: pct(xs, 0.95) });
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exitCode = failures === 0 ? 0 : 1;
} finally {
  controller.abort();
  agent.child.kill('SIGTERM');
  await agent.exited;
  await rest.close();
  await hive.stop();
  removeRoot(root);
}
