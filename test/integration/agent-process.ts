// Test support for the agent's integration tests: a jail-like root in a temp dir, `.env` written the
// way the host writes it (temp file + rename), the agent started as a real process with its JSON log
// captured, and small readers for status.json, the hive's task API and /proc CPU time.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AgentStatus, readStatus as readStatusFile } from '../../src/status/status.ts';
import { bearerJson } from '../support/bearer-json.ts';
import { nodeBinary, REPO_ROOT } from '../support/hive-process.ts';

export const API_KEY = `sk-or-itest-${randomBytes(8).toString('hex')}`;

export function makeRoot(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'clawdie-agent-it-'));
  mkdirSync(path.join(root, 'home/clawdie'), { recursive: true });
  return root;
}

export const envPath = (root: string): string => path.join(root, 'home/clawdie/.env');

export function envText(o: { url: string; token: string; tenant?: string }): string {
  return `CLAWDIE_TENANT=${o.tenant ?? 'acme'}\nCLAWDIE_HIVE_URL=${o.url}\nCLAWDIE_HIVE_TOKEN=${o.token}\nOPENROUTER_API_KEY=${API_KEY}\n`;
}

/** Writes like the host's safe writer: a temp file in the same directory, renamed into place. */
export function writeEnv(root: string, text: string, o: { mode?: number; uid?: number } = {}): void {
  const tmp = path.join(root, 'home/clawdie', `.env.tmp-${randomBytes(4).toString('hex')}`);
  writeFileSync(tmp, text, { mode: o.mode ?? 0o600 });
  if (o.uid !== undefined) chownSync(tmp, o.uid, o.uid);
  renameSync(tmp, envPath(root));
}

export interface AgentProcess {
  child: ChildProcess;
  root: string;
  output(): string;
  /** Resolves with the first log record matching, searching what was logged so far first. */
  waitLog(
    match: (rec: Record<string, unknown>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  waitState(state: AgentStatus['state'], timeoutMs?: number): Promise<Status>;
  exited: Promise<{ code: number | null; signal: string | null }>;
  kill(): Promise<void>;
}

/** status.json as the agent writes it (its schema is the product's). */
export type Status = AgentStatus;

/** The status file read through the product's schema: undefined while there is none yet. */
export function readStatus(root: string): Status | undefined {
  const r = readStatusFile(path.join(root, 'var/db/clawdie/status.json'));
  return r.ok ? r.status : undefined;
}

export async function waitUntil<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function startAgent(
  root: string,
  o: { slow?: boolean; env?: Record<string, string>; args?: string[] } = {},
): AgentProcess {
  const entry = o.slow
    ? path.join(REPO_ROOT, 'test/integration/agent-slow-runner.ts')
    : path.join(REPO_ROOT, 'src/cli.ts');
  const child = spawn(nodeBinary(), [entry, 'run', '--root', root, ...(o.args ?? [])], {
    env: { PATH: process.env.PATH ?? '', CLAWDIE_LOG_LEVEL: 'debug', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const records: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    out += d;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        records.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        records.push({ msg: line });
      }
    }
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    out += d;
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((res) =>
    child.once('exit', (code, signal) => res({ code, signal })),
  );
  return {
    child,
    root,
    exited,
    output: () => out,
    waitLog(match, what, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const hit = records.find(match);
          if (!hit) return false;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(hit);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for log: ${what}\n${out.slice(-3000)}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    waitState: (state, timeoutMs) =>
      waitUntil(
        () => {
          const s = readStatus(root);
          return s?.state === state ? s : undefined;
        },
        `state ${state} (now ${readStatus(root)?.state}); output:\n${out.slice(-2000)}`,
        timeoutMs,
      ),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

const api = (url: string, token: string, method: string, p: string, body?: unknown) =>
  bearerJson<unknown>(url, method, p, token, body);

export async function submit(
  url: string,
  token: string,
  capability: string,
  input: unknown,
): Promise<string> {
  const r = await api(url, token, 'POST', '/v1/tasks', { capability, input });
  if (r.status >= 300) throw new Error(`submit: ${r.status} ${JSON.stringify(r.json)}`);
  return (r.json as { taskId: string }).taskId;
}

export interface TaskView {
  state: string;
  result?: { status: string; output: unknown };
}

export async function taskView(url: string, token: string, id: string): Promise<TaskView> {
  return (await api(url, token, 'GET', `/v1/tasks/${id}`)).json as TaskView;
}

export const waitTask = (url: string, token: string, id: string, state: string, timeoutMs = 15_000) =>
  waitUntil(
    async () => {
      const v = await taskView(url, token, id);
      return v.state === state ? v : undefined;
    },
    `task ${id} ${state}`,
    timeoutMs,
  );

export async function adminAgents(
  url: string,
  adminToken: string,
): Promise<Array<{ agentId: string; state: string; capabilities: string[] }>> {
  return (
    (await api(url, adminToken, 'GET', '/v1/admin/agents')).json as {
      agents: Array<{ agentId: string; state: string; capabilities: string[] }>;
    }
  ).agents;
}

export async function adminDrain(url: string, adminToken: string, agentId: string): Promise<number> {
  return (await api(url, adminToken, 'POST', `/v1/admin/agents/${agentId}/drain`, {})).status;
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User + system CPU seconds a process has used so far (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Runs the CLI once (status, check) and returns its exit code and output. */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(nodeBinary(), [path.join(REPO_ROOT, 'src/cli.ts'), ...args], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export const removeRoot = (root: string): void => rmSync(root, { recursive: true, force: true });
