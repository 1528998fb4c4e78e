// Carries out an allowed spawn on the host: runs the command line from the policy file (normally
// `clawdie-host spawn-agent {child} --jail --collection {tenant}`) with the spawn as JSON on stdin,
// a minimal environment (PATH plus the policy's passEnv names — never the hive admin token), and a
// timeout that kills its process group. Output: ok, or a one-line reason (exit code, no output text).
import { spawn } from 'node:child_process';

export interface ExecutorSpec {
  argv: string[];
  timeoutSeconds: number;
  passEnv: string[];
}

export type ExecutorOutcome = { ok: true } | { ok: false; reason: string };

export function runExecutor(
  spec: ExecutorSpec,
  stdin: unknown,
  hostEnv: NodeJS.ProcessEnv,
): Promise<ExecutorOutcome> {
  const env: Record<string, string> = {
    PATH: hostEnv.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  };
  for (const name of spec.passEnv) {
    const value = hostEnv[name];
    if (value !== undefined) env[name] = value;
  }
  const [program, ...args] = spec.argv;
  return new Promise((resolve) => {
    const child = spawn(program!, args, { env, detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, spec.timeoutSeconds * 1000);
    child.stdin.on('error', () => {});
    child.stdin.end(`${JSON.stringify(stdin)}\n`);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({
        ok: false,
        reason: `executor cannot start (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) resolve({ ok: false, reason: `executor timed out after ${spec.timeoutSeconds} s` });
      else if (code === 0) resolve({ ok: true });
      else resolve({ ok: false, reason: `executor exited with ${code ?? signal}` });
    });
  });
}
