// Tool-call assembly from streamed `delta.tool_calls` fragments (OpenAI-compatible streaming). Pure:
// fragments in, whole calls out. Fragments are keyed by `index`; a new `id` under an index that
// already holds a call starts a new call (some providers reuse index 0 for every call); argument
// fragments are joined in order. Parsing the joined arguments is a separate step (parseArguments),
// so a malformed one becomes a tool error for the model, never a crash.
import * as z from 'zod';
import type { AssembledToolCall } from './messages.ts';

/** One `delta.tool_calls[]` entry; every field may be absent in a continuation fragment. */
export const ToolCallDelta = z.object({
  index: z.number().int().nonnegative().optional(),
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
});
export type ToolCallDelta = z.infer<typeof ToolCallDelta>;

export class ToolCallAssembler {
  /** Every call in order of first appearance. */
  readonly #calls: AssembledToolCall[] = [];
  /** The call each index currently writes to. */
  readonly #byIndex = new Map<number, AssembledToolCall>();

  push(delta: ToolCallDelta): void {
    const id = delta.id ?? undefined;
    // No index at all: a provider that sends each call whole, or continues the last one.
    const index = delta.index ?? (id ? this.#calls.length : Math.max(0, this.#calls.length - 1));
    let call = this.#byIndex.get(index);
    if (!call || (id && call.id !== '' && call.id !== id)) {
      call = { id: id ?? '', name: '', arguments: '' };
      this.#calls.push(call);
      this.#byIndex.set(index, call);
    } else if (id && call.id === '') {
      call.id = id;
    }
    const name = delta.function?.name;
    // Names come whole in the first fragment; a provider repeating it must not double it.
    if (name && call.name !== name) call.name += name;
    const args = delta.function?.arguments;
    if (args) call.arguments += args;
  }

  /** The calls so far; a call without an id gets a stable one so its result can refer to it. */
  calls(): AssembledToolCall[] {
    return this.#calls.map((c, i) => ({ ...c, id: c.id || `call_${i}` }));
  }
}

export type ParsedArguments = { ok: true; value: unknown } | { ok: false; message: string };

/** Empty arguments mean "no input" (`{}`); anything else must be JSON. */
export function parseArguments(raw: string): ParsedArguments {
  if (raw.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch (err) {
    const why = err instanceof SyntaxError ? err.message.replace(/\s+/g, ' ').slice(0, 120) : 'unreadable';
    return { ok: false, message: `the arguments are not valid JSON (${why})` };
  }
}
