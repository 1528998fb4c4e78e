// `clawdie-agent status [--json]`: prints the status file the running agent keeps (exit 1 if none).
import type { AgentPaths } from '../config/paths.ts';
import { formatStatus, readStatus } from '../status/status.ts';

export function statusCommand(
  paths: AgentPaths,
  flags: { json: boolean },
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): number {
  const r = readStatus(paths.statusFile);
  if (!r.ok) {
    err.write(`clawdie-agent status: ${r.reason}\n`);
    return 1;
  }
  out.write(flags.json ? `${JSON.stringify(r.status)}\n` : formatStatus(r.status));
  return 0;
}
