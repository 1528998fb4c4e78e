// Actor for draining: hands a task the agent could not finish back to the hive, then deregisters.
// Each call is bounded (a hive that is down must not hold the shutdown) on the injected clock
// (deps.sleep), so simulated time drives it too; failures are logged only.
import { fromPromise } from 'xstate';
import type { AgentDeps } from '../deps.ts';

interface LeaveInput {
  deps: AgentDeps;
  agentId: string | undefined;
  taskId: string | undefined;
}

async function bounded(
  deps: AgentDeps,
  what: string,
  call: (signal: AbortSignal) => Promise<void>,
): Promise<boolean> {
  const controller = new AbortController();
  const done = new AbortController();
  void deps.sleep(deps.tuning.drainCallMs, done.signal).then(() => {
    if (!done.signal.aborted) controller.abort();
  });
  try {
    await call(controller.signal);
    return true;
  } catch (err) {
    deps.log.warn({ err }, `${what} failed; leaving anyway`);
    return false;
  } finally {
    done.abort();
  }
}

export const releaseTask = fromPromise<boolean, LeaveInput>(async ({ input }) => {
  const { deps, agentId, taskId } = input;
  if (!agentId || !taskId) return false;
  const ok = await bounded(deps, 'release', (s) => deps.hive.release(taskId, agentId, s));
  if (ok) deps.log.info({ taskId }, 'task handed back to the hive');
  return ok;
});

export const deregister = fromPromise<boolean, LeaveInput>(async ({ input }) => {
  const { deps, agentId } = input;
  if (!agentId) return false;
  const ok = await bounded(deps, 'deregister', (s) => deps.hive.deregister(agentId, s));
  if (ok) deps.log.info({ agentId }, 'deregistered');
  return ok;
});
