// Test support: runs a command as a real process to its end (stdin closed, stdout and stderr
// piped) and hands back its exit code and both outputs as text, once its streams have closed.
// A failure to spawn rejects. Callers that check all output for secrets pass `outputs`.
import { spawn } from 'node:child_process';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** The whole environment of the process (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Gets the process's stdout and stderr pushed when it ends. */
  outputs?: string[];
}

export function runToEnd(bin: string, args: string[], o: RunOptions = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
      ...(o.env === undefined ? {} : { env: o.env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      o.outputs?.push(stdout, stderr);
      resolve({ code, stdout, stderr });
    });
  });
}

/** An environment with only PATH (as a jail or service would get) plus `env`. */
export const pathOnlyEnv = (env: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? '',
  ...env,
});
