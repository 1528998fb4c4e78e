// The store's records as the wire shows them (DESIGN §5: AgentView, TaskView, TaskAssignment).
// Pure: records in, protocol objects out; JSON text from the store is parsed here.
import type { AgentView, HeartbeatResponse, TaskAssignment, TaskView } from '../../src/protocol/index.ts';
import type { AgentRecord, LeasedTask, TaskRecord } from './store/store.ts';

export function agentView(a: AgentRecord): AgentView {
  return {
    agentId: a.agentId,
    tenant: a.tenant,
    capabilities: a.capabilities,
    state: a.state,
    lastHeartbeat: new Date(a.lastHeartbeat).toISOString(),
  };
}

/**
 * A heartbeat's answer: each list only when it names something. A running task that was neither
 * renewed nor cancelled is lost to the agent (run out and requeued, another agent's, finished,
 * unknown); a cancelled one is told as `cancel` alone.
 */
export function heartbeatAnswer(
  drain: boolean,
  running: readonly string[],
  renewed: readonly string[],
  cancel: readonly string[],
): HeartbeatResponse {
  const told = new Set([...renewed, ...cancel]);
  const lost = running.filter((id) => !told.has(id));
  return {
    drain,
    ...(cancel.length > 0 ? { cancel: [...cancel] } : {}),
    ...(renewed.length > 0 ? { renewed: [...renewed] } : {}),
    ...(lost.length > 0 ? { lost } : {}),
  };
}

/** A task with its result once there is one (the input stays in the store). */
export function taskView(t: TaskRecord): TaskView {
  const view: TaskView = { taskId: t.taskId, capability: t.capability, state: t.state };
  if (t.resultStatus !== null) {
    view.result = { status: t.resultStatus, output: JSON.parse(t.resultOutputJson ?? 'null') as unknown };
  }
  return view;
}

/** A lease as the long-poll answers it. */
export function assignment(t: LeasedTask, leaseSeconds: number): TaskAssignment {
  return withDepth(
    {
      taskId: t.taskId,
      capability: t.capability,
      input: JSON.parse(t.inputJson) as unknown,
      leaseSeconds,
      tenant: t.tenant,
    },
    t.depth,
  );
}

/** An assignment carries its tool-call depth only above 0 (absent means 0, as for older hives). */
export function withDepth(a: TaskAssignment, depth: number | undefined): TaskAssignment {
  return depth ? { ...a, depth } : a;
}
