// What the fake LLM answers, and how a turn goes on the wire. Pure: a recorded request in, a Turn
// out (the default model below, or whatever a test scripts); a Turn in, the OpenAI-compatible
// stream chunks out. Tool calls are encoded the hard ways real providers do: fragments of parallel
// calls interleaved by `index`, arguments split over several chunks, optionally every call under a
// reused index 0 (a new `id` starts the next call), raw (malformed) arguments, unknown tool names.

export interface RecordedMessage {
  role: string;
  content: string | null;
  tool_call_id?: string;
  tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
  reasoning_content?: string;
  reasoning_details?: Record<string, unknown>[];
}

export interface RecordedRequest {
  path: string;
  authorization: string | undefined;
  body: {
    model?: string;
    stream?: boolean;
    messages?: RecordedMessage[];
    tools?: { type: string; function: { name: string; description?: string; parameters?: unknown } }[];
    tool_choice?: unknown;
  } & Record<string, unknown>;
}

export interface ScriptedCall {
  name: string;
  /** JSON-encoded for the wire (default `{}`). */
  args?: unknown;
  /** Sent as is instead of `args`: a malformed argument string. */
  rawArguments?: string;
  id?: string;
}

export interface Turn {
  text?: string;
  /** DeepSeek-style `reasoning_content`, streamed before the answer. */
  reasoning?: string;
  /**
   * OpenRouter-style `reasoning_details` (whole), streamed before the answer as fragments by index:
   * text, summary and data split into pieces, the other fields on the first fragment.
   */
  reasoningDetails?: Record<string, unknown>[];
  toolCalls?: ScriptedCall[];
  /** Every call under index 0, one after the other (a new id starts the next call). */
  reuseIndex?: boolean;
  /** Hold the answer this long before the headers (a slow or hung model turn). */
  delayMs?: number;
  /** An in-stream error event under HTTP 200 (as OpenRouter sends) after `afterChunks` (default 2). */
  midStreamError?: { code: string | number; message: string; afterChunks?: number };
}

export const lastUser = (req: RecordedRequest): string =>
  [...(req.body.messages ?? [])].reverse().find((m) => m.role === 'user')?.content ?? '';

const offers = (req: RecordedRequest, tool: string): boolean =>
  (req.body.tools ?? []).some((t) => t.function.name === tool);

/** "Chart last week's tasks per agent: acme 7, globex 4" → a title and the labelled numbers. */
export function chartRequest(message: string): { title: string; values: Record<string, number> } | null {
  const match = /\bchart\s+([^:]+):(.*)$/is.exec(message);
  if (!match) return null;
  const values: Record<string, number> = {};
  for (const [, label, n] of match[2]!.matchAll(/([A-Za-z][\w-]*)\s*[=:]?\s*(\d+(?:\.\d+)?)/g)) {
    values[label!] = Number(n);
  }
  if (Object.keys(values).length === 0) return null;
  const title = match[1]!.trim().replace(/^./, (c) => c.toUpperCase());
  return { title, values };
}

/**
 * The offline model of the demo and of tests that script nothing: asked to chart labelled numbers
 * while `bar-chart` is offered, it calls `bar-chart`; given tool results, it answers from them;
 * otherwise it echoes the user's message.
 */
export function defaultTurn(req: RecordedRequest): Turn {
  const messages = req.body.messages ?? [];
  const last = messages.at(-1);
  if (last?.role === 'tool') {
    const asked = [...messages].reverse().find((m) => m.role === 'assistant')?.tool_calls ?? [];
    const results = messages.filter((m) => m.role === 'tool').slice(-asked.length);
    // What a result shows the model: binary it only saw described, else its beginning.
    const seen = (content: string): string => /\[binary [^\]]*\]/.exec(content)?.[0] ?? content.slice(0, 100);
    const parts = asked.map((c, i) => `${c.function.name} → ${seen(results[i]?.content ?? '')}`);
    return { text: `fake answer from ${asked.length} tool result(s): ${parts.join('; ')}` };
  }
  const chart = chartRequest(lastUser(req));
  if (chart && offers(req, 'bar-chart')) {
    return { toolCalls: [{ name: 'bar-chart', args: { ...chart, width: 480 } }] };
  }
  return { text: `fake reply to: ${lastUser(req)}` };
}

/** Splits text into small pieces so a stream really has several events. */
export const pieces = (text: string): string[] => text.match(/\S+\s*|\s+/g) ?? [''];

/** Splits a string into up to `n` fragments of similar length (at least one, maybe empty). */
function fragments(text: string, n: number): string[] {
  if (text.length === 0) return [''];
  const size = Math.ceil(text.length / n);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

type Delta = Record<string, unknown>;

/** The `delta.reasoning_details` fragments of a turn, one per chunk, in wire order. */
export function reasoningDetailDeltas(turn: Turn): Delta[] {
  return (turn.reasoningDetails ?? []).flatMap((detail, index) => {
    const { text, summary, data, ...fields } = detail as Record<string, unknown> & {
      text?: string;
      summary?: string;
      data?: string;
    };
    const joined = Object.entries({ text, summary, data }).filter(([, v]) => typeof v === 'string');
    const head: Delta = { ...fields, index };
    if (joined.length === 0) return [head];
    return joined.flatMap(([key, value], k) =>
      fragments(value as string, 3).map((piece, i) =>
        k === 0 && i === 0 ? { ...head, [key]: piece } : { index, [key]: piece },
      ),
    );
  });
}

/** The `delta.tool_calls` entries of a turn, one per chunk, in wire order. */
export function toolCallDeltas(turn: Turn, callPrefix: string): Delta[] {
  const calls = (turn.toolCalls ?? []).map((c, i) => ({
    index: turn.reuseIndex ? 0 : i,
    id: c.id ?? `${callPrefix}_${i}`,
    name: c.name,
    parts: fragments(c.rawArguments ?? JSON.stringify(c.args ?? {}), 3),
  }));
  const head = (c: (typeof calls)[number]): Delta => ({
    index: c.index,
    id: c.id,
    type: 'function',
    function: { name: c.name, arguments: '' },
  });
  const part = (c: (typeof calls)[number], p: string): Delta => ({
    index: c.index,
    function: { arguments: p },
  });
  if (turn.reuseIndex) return calls.flatMap((c) => [head(c), ...c.parts.map((p) => part(c, p))]);
  // Interleaved: every head, then the first fragment of each call, then the second, …
  const rounds = Math.max(...calls.map((c) => c.parts.length), 0);
  const out = calls.map(head);
  for (let r = 0; r < rounds; r++)
    for (const c of calls) if (c.parts[r] !== undefined) out.push(part(c, c.parts[r]!));
  return out;
}

/** The whole non-streamed message of a turn (for `stream: false`). */
export function wholeMessage(turn: Turn, callPrefix: string): Record<string, unknown> {
  const calls = (turn.toolCalls ?? []).map((c, i) => ({
    id: c.id ?? `${callPrefix}_${i}`,
    type: 'function',
    function: { name: c.name, arguments: c.rawArguments ?? JSON.stringify(c.args ?? {}) },
  }));
  return {
    role: 'assistant',
    content: turn.text ?? (calls.length > 0 ? null : ''),
    ...(turn.reasoning ? { reasoning_content: turn.reasoning } : {}),
    ...(turn.reasoningDetails ? { reasoning_details: turn.reasoningDetails } : {}),
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
  };
}
