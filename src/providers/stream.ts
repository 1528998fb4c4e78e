// Reading one completion: the SSE stream (or the single JSON object of a provider that ignores
// `stream: true`) folded into an accumulator of text, reasoning, tool calls, model and finish reason.
// An error inside a 200 stream (OpenRouter sends `{error: {code, message}}` as a data event, with
// `finish_reason: "error"`) is a typed error; OpenRouter's `reasoning_details` fragments are joined
// by index (reasoning-details.ts); `:` comment lines (OpenRouter's keep-alive) are skipped
// by the SSE parser. In: an undici response body. Out: the accumulator, or a ProviderError.
import type { Dispatcher } from 'undici';
import * as z from 'zod';
import { ProviderResponseError } from './errors.ts';
import { ReasoningDetail, ReasoningDetailsAssembler } from './reasoning-details.ts';
import { isRetryableStatus } from './retry.ts';
import { SseParser } from './sse.ts';
import { ToolCallAssembler, ToolCallDelta } from './tool-calls.ts';

/** Full tool calls of a non-streamed message (`message.tool_calls`). */
const WholeToolCall = z.object({
  id: z.string().nullish(),
  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }),
});

const Content = {
  content: z.string().nullish(),
  /** DeepSeek's thinking text. */
  reasoning_content: z.string().nullish(),
  /** OpenRouter's structured reasoning (fragments when streamed). */
  reasoning_details: z.array(ReasoningDetail).nullish(),
};

/** One streamed chunk (or a whole completion): only the fields we read; unknown ones are ignored. */
const Chunk = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        delta: z.object({ ...Content, tool_calls: z.array(ToolCallDelta).nullish() }).nullish(),
        message: z.object({ ...Content, tool_calls: z.array(WholeToolCall).nullish() }).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  error: z
    .object({ message: z.string().optional(), code: z.union([z.string(), z.number()]).nullish() })
    .optional(),
});

/** A mid-stream error is worth retrying when it says the provider, not the request, failed. */
function retryableCode(code: string | number | null | undefined): boolean {
  if (typeof code === 'number') return isRetryableStatus(code);
  return typeof code === 'string' && /server|timeout|overload|unavailable|rate/i.test(code);
}

export class Accumulator {
  text = '';
  reasoning = '';
  model: string;
  finishReason: string | null = null;
  /** Something was handed to onDelta: a retry would repeat it, so a broken stream is final. */
  emitted = false;
  readonly calls = new ToolCallAssembler();
  readonly reasoningDetails = new ReasoningDetailsAssembler();
  readonly provider: string;
  /** Scrubs the API key from text we pass on, and caps it. */
  readonly clean: (text: string) => string;
  readonly #onDelta: ((text: string) => void) | undefined;

  constructor(o: {
    provider: string;
    model: string;
    clean: (text: string) => string;
    onDelta?: ((text: string) => void) | undefined;
  }) {
    this.provider = o.provider;
    this.model = o.model;
    this.clean = o.clean;
    this.#onDelta = o.onDelta;
  }

  /** Applies one data payload (a JSON chunk). */
  apply(payload: string): void {
    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch (err) {
      throw new ProviderResponseError(this.provider, 'sent a stream event that is not JSON', { cause: err });
    }
    const chunk = Chunk.safeParse(json);
    if (!chunk.success) {
      throw new ProviderResponseError(this.provider, 'sent a stream event of an unknown shape');
    }
    const { error, model, choices } = chunk.data;
    if (error) {
      throw new ProviderResponseError(
        this.provider,
        `failed mid-stream: ${this.clean(error.message ?? 'error')}`,
        { kind: retryableCode(error.code) ? 'retryable' : 'fatal' },
      );
    }
    if (model) this.model = model;
    for (const choice of choices ?? []) {
      const part = choice.delta ?? choice.message;
      const piece = part?.content ?? '';
      if (piece) {
        this.text += piece;
        this.emitted = true;
        this.#onDelta?.(piece);
      }
      if (part?.reasoning_content) this.reasoning += part.reasoning_content;
      for (const d of part?.reasoning_details ?? []) this.reasoningDetails.push(d);
      for (const d of choice.delta?.tool_calls ?? []) this.calls.push(d);
      for (const [index, c] of (choice.message?.tool_calls ?? []).entries()) {
        this.calls.push({ index, id: c.id, function: c.function });
      }
      if (choice.finish_reason === 'error') {
        throw new ProviderResponseError(this.provider, 'ended the stream with finish_reason "error"', {
          kind: 'retryable',
        });
      }
      if (choice.finish_reason) this.finishReason = choice.finish_reason;
    }
  }
}

/** Reads a 2xx response body into the accumulator: SSE, or one JSON completion. */
export async function readCompletion(response: Dispatcher.ResponseData, acc: Accumulator): Promise<void> {
  const type = String(response.headers['content-type'] ?? '');
  if (type.includes('application/json')) {
    acc.apply(await response.body.text());
    return;
  }
  if (!type.includes('text/event-stream')) {
    await response.body.dump();
    throw new ProviderResponseError(acc.provider, `answered with content-type ${acc.clean(type) || 'none'}`);
  }
  const parser = new SseParser();
  response.body.setEncoding('utf8');
  for await (const chunk of response.body) {
    for (const data of parser.push(chunk as string)) {
      if (data.trim() === '[DONE]') return;
      acc.apply(data);
    }
  }
  for (const data of parser.end()) {
    if (data.trim() !== '[DONE]') acc.apply(data);
  }
}
