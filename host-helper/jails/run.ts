// Runs a host program (bastille, jls, jexec, unshare, nsenter) with argv only, a minimal
// environment (PATH alone: nothing of the host's environment, and so no bootstrap secret, reaches
// a jail process) and optional stdin; collects its output with a size cap and a timeout.
import { spawn } from 'node:child_process';
import { ClawdieError } from '../../src/errors.ts';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  stdin?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export class JailCommandError extends ClawdieError {}

const MAX_OUTPUT = 1 << 20;

export function minimalEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };
}

export function run(bin: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      env: options.env ?? minimalEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 120_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += d;
    });
    child.on('error', (err) => reject(new JailCommandError(`cannot run ${bin}`, { cause: err })));
    child.on('close', (code, signal) => {
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => {
      // the program may exit without reading stdin; its exit code tells
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/** Runs and throws a one-line error (program + exit code + first stderr line) unless it exits 0. */
export async function runOk(
  bin: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await run(bin, args, options);
  if (result.code !== 0) {
    const first = result.stderr.split('\n').find((l) => l.trim() !== '') ?? '';
    const what = [bin.split('/').pop(), args[0]].filter(Boolean).join(' ');
    throw new JailCommandError(`${what} exited ${result.code}${first ? `: ${first.slice(0, 200)}` : ''}`);
  }
  return result;
}
