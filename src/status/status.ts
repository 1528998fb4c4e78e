// The agent's status file (DESIGN §3), `<state dir>/status.json`: its schema, its reader and its
// human form; ./write-status.ts writes it (re-exported here), ./track.ts derives it from machine
// snapshots. Holds no secret: only state names, ids, the identity hash, capabilities and error lines
// that name no value.
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { AgentStateName, STATE_MEANING } from '../machine/states.ts';

export { writeStatusAtomic } from './write-status.ts';

/** The crash-loop breaker (machine/crash-loop.ts): `open` while a start waits, `trial` after it. */
export const BreakerStatus = z.object({
  state: z.enum(['closed', 'open', 'trial']),
  uncleanEnds: z.number().int(),
  trips: z.number().int(),
  retryAt: z.string().optional(),
});
export type BreakerStatus = z.infer<typeof BreakerStatus>;

export const AgentStatus = z.object({
  state: AgentStateName,
  since: z.string(),
  pid: z.number().int(),
  version: z.string(),
  agentId: z.string().optional(),
  tenant: z.string().optional(),
  lastHeartbeat: z.string().optional(),
  identityHash: z.string().optional(),
  soul: z.array(z.object({ name: z.string(), layer: z.string(), bytes: z.number() })).optional(),
  capabilities: z.array(z.string()),
  lastError: z.string().optional(),
  breaker: BreakerStatus.optional(),
});
export type AgentStatus = z.infer<typeof AgentStatus>;

export type StatusRead = { ok: true; status: AgentStatus } | { ok: false; reason: string };

export function readStatus(file: string): StatusRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { ok: false, reason: `no status at ${file} (has the agent run?)` };
  }
  try {
    const parsed = AgentStatus.safeParse(JSON.parse(text));
    return parsed.success
      ? { ok: true, status: parsed.data }
      : { ok: false, reason: `status file ${file} is malformed` };
  } catch {
    return { ok: false, reason: `status file ${file} is not JSON` };
  }
}

export function formatStatus(s: AgentStatus): string {
  const lines = [
    `state:          ${s.state} (since ${s.since}): ${STATE_MEANING[s.state]}`,
    `agent:          ${s.agentId ?? '-'}${s.tenant ? ` (tenant ${s.tenant})` : ''}`,
    `pid / version:  ${s.pid} / ${s.version}`,
    `last heartbeat: ${s.lastHeartbeat ?? '-'}`,
    `identity:       ${s.identityHash ?? '-'}`,
    ...(s.soul ?? []).map((f) => `  ${f.name.padEnd(12)} from ${f.layer} (${f.bytes} bytes)`),
    `capabilities:   ${s.capabilities.join(', ') || '-'}`,
  ];
  if (s.lastError) lines.push(`last error:     ${s.lastError}`);
  if (s.breaker) lines.push(`crash loop:     ${formatBreaker(s.breaker)}`);
  return `${lines.join('\n')}\n`;
}

function formatBreaker(b: BreakerStatus): string {
  if (b.state === 'closed') return 'closed';
  const why = `${b.uncleanEnds} unclean end${b.uncleanEnds === 1 ? '' : 's'}, trip ${b.trips}`;
  return b.state === 'open' ? `open (${why}; boots at ${b.retryAt ?? '?'})` : `trial (${why})`;
}
