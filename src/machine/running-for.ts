// "Once the agent has stayed in `running` for a while": the trigger both the crash-loop breaker (a
// healthy run closes it) and the heap settle (boot is behind) wait for. In: the agent actor, a
// duration, a callback. The timer starts on entering `running`, is dropped on leaving it, and is
// unref'd (it never keeps the process alive); the callback runs at most once per stay.
import type { Actor } from 'xstate';
import { type AgentMachine, topStateOf } from './agent-machine.ts';

/** Returns the function that stops watching (and drops a pending timer). */
export function whenRunningFor(actor: Actor<AgentMachine>, ms: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const sub = actor.subscribe((snap) => {
    const running = topStateOf(snap) === 'running';
    if (running && !timer) {
      timer = setTimeout(fn, ms);
      timer.unref();
    } else if (!running && timer) {
      clearTimeout(timer);
      timer = undefined;
    }
  });
  return () => {
    sub.unsubscribe();
    clearTimeout(timer);
  };
}
