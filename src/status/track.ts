// Keeps status.json in step with a running agent actor: on each snapshot, derive the status and
// write it only when something a reader cares about changed (state, heartbeat, error, ids).
import type { Actor } from 'xstate';
import { type AgentMachine, type AgentMachineState, topStateOf } from '../machine/agent-machine.ts';
import type { AgentStatus, BreakerStatus } from './status.ts';
import { writeStatusAtomic } from './write-status.ts';

/** Stops tracking; `refresh()` rewrites the file now (for changes that are not snapshots). */
export type StatusTracker = (() => void) & { refresh: () => void };

export function trackStatus(
  actor: Actor<AgentMachine>,
  options: {
    file: string;
    version: string;
    now: () => number;
    onError: (err: unknown) => void;
    breaker?: () => BreakerStatus;
  },
): StatusTracker {
  let state: AgentMachineState | undefined;
  let since = '';
  let last = '';
  const write = (snap: ReturnType<typeof actor.getSnapshot>): void => {
    const name = topStateOf(snap);
    if (name !== state) {
      state = name;
      since = new Date(options.now()).toISOString();
    }
    const c = snap.context;
    const status: AgentStatus = {
      state,
      since,
      pid: process.pid,
      version: options.version,
      agentId: c.agentId,
      tenant: c.env?.CLAWDIE_TENANT,
      lastHeartbeat: c.lastHeartbeat,
      identityHash: c.identity?.hash,
      soul: c.identity?.files,
      capabilities: c.capabilities,
      lastError: c.failure ?? c.lastError,
      breaker: options.breaker?.(),
    };
    const text = JSON.stringify(status);
    if (text === last) return;
    last = text;
    try {
      writeStatusAtomic(options.file, status);
    } catch (err) {
      options.onError(err);
    }
  };
  const sub = actor.subscribe(write);
  return Object.assign(() => sub.unsubscribe(), { refresh: () => write(actor.getSnapshot()) });
}
