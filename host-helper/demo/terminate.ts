// Stopping a demo child (the hive or an agent): SIGTERM, then SIGKILL if it has not exited within
// the grace time. In: the child and the promise of its exit; out: resolves once it has exited.
import type { ChildProcess } from 'node:child_process';

export async function terminate(
  child: ChildProcess,
  exited: Promise<unknown>,
  graceMs: number,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(force);
}
