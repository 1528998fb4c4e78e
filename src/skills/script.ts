// Runs a script skill (`scripts/<entry>`) for one task as a child process (DESIGN §7): minimal env
// (script-env.ts), its own process group killed on timeout/abort/overflow, stdout capped, a private
// working dir under the agent's state dir (removed afterwards). Protocol: one JSON line on stdin
// `{task, agent, input}`; JSON on stdout is the output. Lines asking the agent to borrow a
// capability or to spawn a worker are answered on stdin (script-requests.ts; skills/bar-chart and
// skills/mother are examples); stdin stays open only for a skill that may ask.
import { type ChildProcess, spawn } from 'node:child_process';
import { lstat, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { TaskAssignment, TaskResult } from '../protocol/index.ts';
import type { LoadedSkill } from './discover.ts';
import { interpreterFor, scriptEnv } from './script-env.ts';
import { handleRequestLine, safeJson, takesAnswers } from './script-requests.ts';
import { MAX_TASK_OUTPUT_BYTES, type TaskContext } from './task-runner.ts';
import { DEFAULT_SCRIPT_TIMEOUT_MS, skillTimeoutMs } from './time-budget.ts';

export interface ScriptLimits {
  timeoutMs: number;
  maxOutputBytes: number;
}
export const DEFAULT_SCRIPT_LIMITS: ScriptLimits = {
  timeoutMs: DEFAULT_SCRIPT_TIMEOUT_MS,
  maxOutputBytes: MAX_TASK_OUTPUT_BYTES,
};

export interface ScriptRun {
  skill: Pick<LoadedSkill, 'name' | 'dir' | 'extensions'>;
  task: TaskAssignment;
  context: TaskContext;
  /** Parent of the per-task working dirs (under the agent's state dir). */
  workRoot: string;
  limits?: Partial<ScriptLimits>;
  nodePath?: string;
}

const failure = (message: string, extra: Record<string, unknown> = {}): TaskResult => ({
  status: 'error',
  output: { message, ...extra },
});

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Resolves the entry inside `scripts/`, refusing links and anything that is not a regular file. */
async function entryPath(skillDir: string, entry: string): Promise<string | null> {
  const file = path.join(skillDir, 'scripts', entry);
  try {
    const stat = await lstat(file);
    return stat.isFile() ? file : null;
  } catch {
    return null;
  }
}

export async function runScript(run: ScriptRun): Promise<TaskResult> {
  const { skill, task, context } = run;
  const limits = { ...DEFAULT_SCRIPT_LIMITS, ...run.limits };
  const timeoutMs = skillTimeoutMs(skill.extensions, limits.timeoutMs);
  const entry = skill.extensions.entry;
  const file = entry ? await entryPath(skill.dir, entry) : null;
  if (!entry || !file)
    return failure(`skill ${skill.name}: scripts/${entry ?? '?'} is missing or not a regular file`);

  const workDir = path.join(run.workRoot, `${skill.name}-${task.taskId}`);
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  try {
    return await execute(run, file, workDir, timeoutMs, limits.maxOutputBytes, context);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

function execute(
  run: ScriptRun,
  file: string,
  workDir: string,
  timeoutMs: number,
  maxOutputBytes: number,
  context: TaskContext,
): Promise<TaskResult> {
  const { skill, task } = run;
  const { command, args } = interpreterFor(file, run.nodePath ?? process.execPath);
  const child = spawn(command, args, {
    cwd: workDir,
    env: scriptEnv(skill.extensions.env, context.env, process.env),
    detached: true, // its own process group, so a timeout kills grandchildren too
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stopped: TaskResult | null = null;
  const stop = (result: TaskResult): void => {
    stopped ??= result;
    killGroup(child);
  };
  const timer = setTimeout(
    () => stop(failure(`skill ${skill.name}: timed out after ${timeoutMs} ms`)),
    timeoutMs,
  );
  const onAbort = (): void => stop(failure(`skill ${skill.name}: aborted`));
  context.signal.addEventListener('abort', onAbort, { once: true });
  if (context.signal.aborted) onAbort();

  let outputBytes = 0;
  let pending = '';
  const kept: string[] = [];
  const ended = new AbortController();
  const requests = {
    skill,
    context,
    ended: ended.signal,
    reply: (line: object): void => {
      if (child.stdin?.writable) child.stdin.write(`${JSON.stringify(line)}\n`);
    },
    refuse: (message: string): void => stop(failure(message)),
  };
  const handleLine = (line: string): void => {
    if (!handleRequestLine(line, requests)) kept.push(line);
  };

  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    outputBytes += Buffer.byteLength(chunk);
    if (outputBytes > maxOutputBytes) {
      stop(failure(`skill ${skill.name}: output exceeds ${maxOutputBytes} bytes`));
      return;
    }
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      handleLine(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  });
  // stderr is drained but never forwarded: a lane's diagnostics must not reach other tenants.
  child.stderr.resume();
  child.stdin.on('error', () => {}); // EPIPE when the script does not read its input
  const envelope = {
    task: { taskId: task.taskId, capability: task.capability, tenant: task.tenant },
    agent: { agentId: context.agentId },
    input: task.input,
  };
  child.stdin.write(`${JSON.stringify(envelope)}\n`);
  if (!takesAnswers(skill)) child.stdin.end();

  return new Promise<TaskResult>((resolve) => {
    child.on('error', (err) =>
      stop(failure(`skill ${skill.name}: cannot start (${(err as NodeJS.ErrnoException).code ?? 'error'})`)),
    );
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      ended.abort();
      context.signal.removeEventListener('abort', onAbort);
      killGroup(child); // stragglers that kept no stdio open
      if (stopped) return resolve(stopped);
      if (pending.length > 0) kept.push(pending);
      const text = kept.join('\n').trim();
      const output = text === '' ? null : safeJson(text, NOT_JSON);
      if (code === 0) {
        resolve(
          output === NOT_JSON ? failure(`skill ${skill.name}: output is not JSON`) : { status: 'ok', output },
        );
        return;
      }
      const why = code === null ? `killed by ${signal}` : `exited with code ${code}`;
      resolve(
        output === NOT_JSON || output === null
          ? failure(`skill ${skill.name}: ${why}`)
          : { status: 'error', output },
      );
    });
  });
}

const NOT_JSON = Symbol('not json');
