// The demo's agents: real `clawdie-agent run --root <jail root>` processes (the sources, run by the
// same node), with nothing of the demo's environment but PATH (no key, no token: the agent reads
// its own .env), logs appended to <dir>/logs/<tenant>.log. Also the hive calls the demo makes.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { terminate } from './terminate.ts';

const AGENT_CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

export interface DemoAgent {
  tenant: string;
  child: ChildProcess;
  /** SIGTERM (the agent drains and deregisters), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export async function startAgent(
  tenant: string,
  root: string,
  logPath: string,
  pathEnv: string,
): Promise<DemoAgent> {
  const log = await open(logPath, 'a', 0o600);
  const child = spawn(process.execPath, [AGENT_CLI, 'run', '--root', root], {
    stdio: ['ignore', log.fd, log.fd],
    env: { PATH: pathEnv, CLAWDIE_LOG_LEVEL: 'info' },
  });
  const exited = once(child, 'exit');
  void exited.finally(() => log.close().catch(() => undefined)).catch(() => undefined);
  return {
    tenant,
    child,
    stop(graceMs = 10_000) {
      return terminate(
        child,
        exited.catch(() => undefined),
        graceMs,
      );
    },
  };
}

export interface HiveCall {
  status: number;
  json: unknown;
}

export async function hiveCall(
  base: string,
  token: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<HiveCall> {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
}

export interface LiveAgent {
  agentId: string;
  tenant: string;
  capabilities: string[];
  state: string;
}

/** Polls the admin agent list until every tenant has a live agent; returns them by tenant. */
export async function waitLive(
  base: string,
  adminToken: string,
  tenants: readonly string[],
  signal: AbortSignal,
  timeoutMs = 20_000,
): Promise<Map<string, LiveAgent>> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end && !signal.aborted) {
    const { json } = await hiveCall(base, adminToken, 'GET', '/v1/admin/agents');
    const agents = ((json as { agents?: LiveAgent[] } | null)?.agents ?? []).filter(
      (a) => a.state === 'live',
    );
    const byTenant = new Map(agents.map((a) => [a.tenant, a]));
    if (tenants.every((t) => byTenant.has(t))) return byTenant;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`agents not live after ${timeoutMs / 1000}s (see the logs)`);
}

export interface TaskView {
  taskId: string;
  state: string;
  result?: { status: string; output: unknown };
}

/** Submits as `token`'s tenant and polls until the task is settled. */
export async function runTask(
  base: string,
  token: string,
  capability: string,
  input: unknown,
  signal: AbortSignal,
): Promise<TaskView> {
  const submitted = await hiveCall(base, token, 'POST', '/v1/tasks', { capability, input, ttlSeconds: 60 });
  const taskId = (submitted.json as { taskId?: string } | null)?.taskId;
  if (submitted.status >= 300 || !taskId) throw new Error(`submit ${capability}: HTTP ${submitted.status}`);
  while (!signal.aborted) {
    const { json } = await hiveCall(base, token, 'GET', `/v1/tasks/${taskId}`);
    const view = json as TaskView;
    if (['succeeded', 'failed', 'expired'].includes(view.state)) return view;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('interrupted');
}
