// The routing benchmarks' shared client side (routing.bench.ts on SQLite, routing-pg.bench.ts on
// PostgreSQL replicas): a lean undici client spread round-robin over coordinator URLs, the agent
// worker threads (poll, answer, heartbeat, count completions in shared memory), and the submitter's
// closed-loop and paced phases. In: coordinator URLs, a tenant token, agent ids. Out: replies,
// per-phase dispatch latencies and the task ids each thread saw. Not a benchmark itself (run.ts
// runs *.bench.ts only); its worker threads are started on this module.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Pool } from 'undici';

/** Indexes into the shared counters: completed tasks, stop flag. */
export const DONE = 0;
export const STOP = 1;

/** Warm-up, full speed (throughput), or paced at half that rate (latency without a queue). */
export type Phase = 'warm' | 'max' | 'paced';

export const now = (): number => performance.timeOrigin + performance.now();

export interface Reply {
  status: number;
  json: Record<string, unknown> | undefined;
}

export type Send = (method: 'GET' | 'POST', path: string, token: string, body?: unknown) => Promise<Reply>;

/**
 * A lean HTTP client: an undici Pool per origin (keep-alive, pipelining 1) driven through dispatch()
 * with a handler that only collects the status and the body bytes, since the client shares the cores
 * with what it measures. Each request goes to the next origin in turn. A reply counts once its body
 * has fully arrived.
 */
export function client(origins: string[], connections: number): { send: Send; close: () => Promise<void> } {
  const pools = origins.map((origin) => ({
    origin,
    pool: new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 }),
  }));
  let turn = 0;
  const send: Send = (method, path, token, body) =>
    new Promise((resolve, reject) => {
      const { origin, pool } = pools[turn++ % pools.length]!;
      let status = 0;
      const chunks: Buffer[] = [];
      pool.dispatch(
        {
          origin,
          method,
          path,
          headers: ['authorization', `Bearer ${token}`, 'content-type', 'application/json'],
          body: body === undefined ? null : JSON.stringify(body),
        },
        {
          onRequestStart() {},
          onResponseStart(_c, statusCode) {
            status = statusCode;
          },
          onResponseData(_c, chunk) {
            chunks.push(chunk);
          },
          onResponseEnd() {
            const text = chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8');
            resolve({ status, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined });
          },
          onResponseError(_c, err) {
            reject(err);
          },
        },
      );
    });
  return { send, close: async () => void (await Promise.all(pools.map((p) => p.pool.close()))) };
}

/** Registers each agent with the one capability the benchmarks submit ('bench'). */
export async function registerAgents(send: Send, token: string, agentIds: string[]): Promise<void> {
  for (const agentId of agentIds) {
    const r = await send('POST', '/v1/agents', token, {
      agentId,
      tenant: 'bench',
      capabilities: ['bench'],
      identityHash: 'b'.repeat(64),
      version: '0',
      os: 'bench',
    });
    if (r.status !== 200) throw new Error(`register ${agentId}: ${r.status}`);
  }
}

interface WorkerInput {
  routingAgents: true;
  urls: string[];
  token: string;
  agentIds: string[];
  shared: SharedArrayBuffer;
}

/** What one agent thread reports when stopped: dispatch latencies per measured phase, task ids seen. */
export interface ThreadResult {
  latencies: Record<Exclude<Phase, 'warm'>, number[]>;
  seen: string[];
}

/** Worker thread: a share of the agents, each polling, answering, polling again. */
async function agentsThread(w: WorkerInput): Promise<void> {
  const counters = new Int32Array(w.shared);
  const { send, close } = client(w.urls, w.agentIds.length + 4);
  const latencies: ThreadResult['latencies'] = { max: [], paced: [] };
  const seen: string[] = [];
  const loop = async (agentId: string): Promise<void> => {
    while (Atomics.load(counters, STOP) === 0) {
      const r = await send('GET', `/v1/agents/${agentId}/tasks?wait=1`, w.token);
      if (r.status === 204) continue;
      if (r.status !== 200 || !r.json) throw new Error(`poll: ${r.status}`);
      const received = now();
      const input = r.json.input as { t0: number; phase: Phase };
      const taskId = String(r.json.taskId);
      const res = await send('POST', `/v1/tasks/${taskId}/result`, w.token, {
        status: 'ok',
        output: null,
        agentId,
      });
      if (res.status !== 200) throw new Error(`result: ${res.status} ${JSON.stringify(res.json)}`);
      seen.push(taskId);
      if (input.phase !== 'warm') latencies[input.phase].push(received - input.t0);
      Atomics.add(counters, DONE, 1);
      Atomics.notify(counters, DONE);
    }
  };
  // Real agents heartbeat beside polling; without it they would be lost after 3 intervals.
  const beat = setInterval(() => {
    for (const id of w.agentIds) void send('POST', `/v1/agents/${id}/heartbeat`, w.token, {});
  }, 5000);
  await Promise.all(w.agentIds.map(loop));
  clearInterval(beat);
  await close();
  parentPort!.postMessage({ latencies, seen } satisfies ThreadResult);
}

/**
 * Starts `threads` worker threads sharing the agents between them; each result settles once the
 * STOP counter is set and that thread's agents have finished.
 */
export function startAgentThreads(
  threads: number,
  urls: string[],
  token: string,
  agentIds: string[],
  shared: SharedArrayBuffer,
): Promise<ThreadResult>[] {
  return Array.from({ length: threads }, (_, i) => {
    const input: WorkerInput = {
      routingAgents: true,
      urls,
      token,
      agentIds: agentIds.filter((_, j) => j % threads === i),
      shared,
    };
    const w = new Worker(new URL(import.meta.url), { workerData: input });
    return new Promise<ThreadResult>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  });
}

/** The submitter's side: closed-loop submits, waiting for completions, and the paced phase. */
export function submitter(send: Send, token: string, counters: Int32Array, window: number) {
  let submitted = 0;
  // One shared wait for "a task completed" while the window is full: a waitAsync per submitting
  // loop would wake all of them on every completion and cost more CPU than the submits.
  let gate: Promise<unknown> | null = null;
  const completion = (done: number): Promise<unknown> => {
    if (!gate) {
      const w = Atomics.waitAsync(counters, DONE, done, 1000);
      gate = (w.async ? w.value : Promise.resolve()).then(() => {
        gate = null;
      });
    }
    return gate;
  };
  /** Submits `count` tasks with at most `window` outstanding (submitted, not yet completed). */
  const submit = async (count: number, phase: Phase): Promise<void> => {
    let left = count;
    const one = async (): Promise<void> => {
      while (left > 0) {
        const done = Atomics.load(counters, DONE);
        if (submitted - done >= window) {
          await completion(done);
          continue;
        }
        left--;
        submitted++;
        const r = await send('POST', '/v1/tasks', token, {
          capability: 'bench',
          input: { t0: now(), phase },
        });
        if (r.status !== 201) throw new Error(`submit: ${r.status}`);
      }
    };
    await Promise.all(Array.from({ length: window }, one));
  };
  /** Waits until `target` tasks have completed or `deadline` (epoch ms) has passed. */
  const settle = async (target: number, deadline: number): Promise<void> => {
    while (Atomics.load(counters, DONE) < target && now() < deadline) {
      await Atomics.waitAsync(counters, DONE, Atomics.load(counters, DONE), 200).value;
    }
  };
  /** Open loop: submits `count` tasks at `rate` per second, whatever is outstanding. */
  const paced = async (rate: number, count: number): Promise<void> => {
    const pending: Promise<unknown>[] = [];
    const p0 = now();
    for (let sent = 0; sent < count; ) {
      const due = Math.min(count, Math.floor(((now() - p0) / 1000) * rate));
      for (; sent < due; sent++) {
        pending.push(
          send('POST', '/v1/tasks', token, { capability: 'bench', input: { t0: now(), phase: 'paced' } }),
        );
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(pending);
  };
  return { submit, settle, paced };
}

/** How a routing run is shaped. */
export interface RoutingPlan {
  agents: number;
  threads: number;
  /** Most tasks outstanding in the closed-loop phases. */
  window: number;
  warmup: number;
  /** Tasks of the full-speed phase, and the wall time it may take at most. */
  tasks: number;
  capSeconds: number;
  /** The paced phase: as many tasks as this many seconds at half the full-speed rate, at most pacedMax. */
  pacedSeconds: number;
  pacedMax: number;
}

/** What a routing run measured; latencies are sorted, in ms. */
export interface RoutingOutcome {
  /** Tasks completed in the full-speed phase, in `seconds`, at `rate` per second. */
  completed: number;
  seconds: number;
  rate: number;
  pacedRate: number;
  pacedCount: number;
  pacedDone: number;
  duplicates: number;
  full: number[];
  paced: number[];
}

/**
 * One whole run against the coordinators at `urls`: registers `agents` agents ('bench-0'…) and
 * starts their threads, warms up, runs the full-speed phase (closed loop, capped at capSeconds)
 * between onMax() and the function it returns (CPU readings go there), then the paced phase (open
 * loop at half the measured rate, so latency is dispatch and not queueing), and stops the threads.
 */
export async function runRouting(
  send: Send,
  urls: string[],
  token: string,
  plan: RoutingPlan,
  onMax: () => () => void,
): Promise<RoutingOutcome> {
  const agentIds = Array.from({ length: plan.agents }, (_, i) => `bench-${i}`);
  await registerAgents(send, token, agentIds);
  const shared = new SharedArrayBuffer(8);
  const counters = new Int32Array(shared);
  const results = startAgentThreads(plan.threads, urls, token, agentIds, shared);
  const { submit, settle, paced: submitPaced } = submitter(send, token, counters, plan.window);
  const done = (): number => Atomics.load(counters, DONE);

  await submit(plan.warmup, 'warm');
  await settle(plan.warmup, now() + 20_000);
  const maxEnd = onMax();
  const t0 = now();
  await submit(plan.tasks, 'max');
  await settle(plan.warmup + plan.tasks, t0 + plan.capSeconds * 1000);
  const seconds = (now() - t0) / 1000;
  maxEnd();
  const completed = done() - plan.warmup;
  const rate = completed / seconds;

  const pacedRate = Math.max(50, Math.round(rate / 2));
  const pacedCount = Math.min(plan.pacedMax, Math.round(pacedRate * plan.pacedSeconds));
  await submitPaced(pacedRate, pacedCount);
  await settle(plan.warmup + completed + pacedCount, now() + 20_000);
  const pacedDone = done() - plan.warmup - completed;
  Atomics.store(counters, STOP, 1);
  const merged = merge(await Promise.all(results));
  return { completed, seconds, rate, pacedRate, pacedCount, pacedDone, ...merged };
}

export const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;

/** The threads' results together: tasks delivered twice and sorted latencies per measured phase. */
export function merge(parts: ThreadResult[]): { duplicates: number; full: number[]; paced: number[] } {
  const seen = parts.flatMap((p) => p.seen);
  return {
    duplicates: seen.length - new Set(seen).size,
    full: parts.flatMap((p) => p.latencies.max).sort((a, b) => a - b),
    paced: parts.flatMap((p) => p.latencies.paced).sort((a, b) => a - b),
  };
}

if (!isMainThread && (workerData as Partial<WorkerInput> | null)?.routingAgents === true)
  await agentsThread(workerData as WorkerInput);
