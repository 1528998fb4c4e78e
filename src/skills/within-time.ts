// Runs a synchronous call under a time limit. Some work the agent does on input it does not control
// cannot be bounded beforehand: a JSON Schema `pattern` (a skill's, or another agent's from the
// catalog) may backtrack catastrophically on a crafted string, and a regular expression in unicode
// mode cannot fall back to V8's linear engine. node:vm's `timeout` interrupts whatever the isolate
// is running, the regex engine included, so the call runs as the one statement of a script in a
// context of its own (made once, on first use: boot does not pay for it). In: the limit and the
// call. Out: its value, its own throw, or WithinTimeError when it ran out of time.
import type { Context, Script } from 'node:vm';

export class WithinTimeError extends Error {
  override readonly name = 'WithinTimeError';
}

let runner: { context: Context & { call?: () => void }; script: Script } | undefined;

function make(): NonNullable<typeof runner> {
  const vm = process.getBuiltinModule('node:vm') as typeof import('node:vm');
  return { context: vm.createContext({}), script: new vm.Script('call()') };
}

export function withinTime<T>(ms: number, call: () => T): T {
  runner ??= make();
  let out: { value: T } | undefined;
  runner.context.call = () => {
    out = { value: call() };
  };
  try {
    runner.script.runInContext(runner.context, { timeout: ms });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new WithinTimeError(`took longer than ${ms} ms`, { cause: err });
    }
    throw err;
  } finally {
    runner.context.call = undefined;
  }
  return (out as { value: T }).value;
}
