// What the live view shows (issue 19), built from the store's records, the activity ring and the
// coordinator's gauges: tenants and lanes with their agents, queue depth per capability, recent
// throughput and failures, the newest tasks with their state and duration. Pure: records in, the
// JSON the page renders out (no input, output or token of any task).
import type { AgentRecord, QueueStat, RecentTask } from '../store/store.ts';
import { type ActivityBucket, BUCKET_SECONDS } from './activity.ts';

export interface UiSnapshot {
  at: string;
  parkedPolls: number;
  tenants: {
    tenant: string;
    kind: 'tenant' | 'lane';
    agents: { agentId: string; state: string; lastHeartbeat: string; capabilities: string[] }[];
  }[];
  queue: { capability: string; depth: number; oldestAgeSeconds: number }[];
  activity: { bucketSeconds: number; buckets: ActivityBucket[] };
  recent: {
    taskId: string;
    tenant: string;
    capability: string;
    state: string;
    createdAt: string;
    /** Submit to end for finished tasks, submit to now for others. */
    durationMs: number;
  }[];
}

const TERMINAL = new Set(['succeeded', 'failed', 'expired']);

export function buildSnapshot(input: {
  now: number;
  parkedPolls: number;
  agents: readonly AgentRecord[];
  queue: readonly QueueStat[];
  activity: ActivityBucket[];
  recent: readonly RecentTask[];
}): UiSnapshot {
  const byTenant = new Map<string, UiSnapshot['tenants'][number]>();
  for (const a of [...input.agents].sort((x, y) => (x.agentId < y.agentId ? -1 : 1))) {
    if (a.state === 'gone') continue;
    let t = byTenant.get(a.tenant);
    if (!t) {
      t = { tenant: a.tenant, kind: a.shared ? 'lane' : 'tenant', agents: [] };
      byTenant.set(a.tenant, t);
    }
    t.agents.push({
      agentId: a.agentId,
      state: a.state,
      lastHeartbeat: new Date(a.lastHeartbeat).toISOString(),
      capabilities: [...a.capabilities],
    });
  }
  return {
    at: new Date(input.now).toISOString(),
    parkedPolls: input.parkedPolls,
    tenants: [...byTenant.values()].sort((a, b) => (a.tenant < b.tenant ? -1 : 1)),
    queue: input.queue
      .map((q) => ({
        capability: q.capability,
        depth: q.depth,
        oldestAgeSeconds: Math.max(0, Math.round((input.now - q.oldestCreatedAt) / 1000)),
      }))
      .sort((a, b) => b.depth - a.depth || (a.capability < b.capability ? -1 : 1)),
    activity: { bucketSeconds: BUCKET_SECONDS, buckets: input.activity },
    recent: input.recent.map((t) => ({
      taskId: t.taskId,
      tenant: t.tenant,
      capability: t.capability,
      state: t.state,
      createdAt: new Date(t.createdAt).toISOString(),
      durationMs: Math.max(0, (TERMINAL.has(t.state) ? t.updatedAt : input.now) - t.createdAt),
    })),
  };
}
