// OpenAI-compatible chat completions over undici (OpenRouter, DeepSeek, the fake test server):
// POST {baseUrl}/chat/completions with `stream: true`, read the SSE stream into text, retry 429/5xx
// and network failures with backoff (Retry-After honoured, sleep injected), typed errors otherwise.
// The API key goes only into the Authorization header; it is scrubbed from anything we pass on.
import { setTimeout as delay } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import * as z from 'zod';
import { readErrorBody } from '../protocol/errors.ts';
import {
  ProviderAuthError,
  ProviderError,
  ProviderRequestError,
  ProviderResponseError,
  ProviderTimeoutError,
  ProviderUnavailableError,
  scrub,
} from './errors.ts';
import { httpRequest, undiciErrors } from './http.ts';
import {
  isRetryableStatus,
  PROVIDER_RETRY,
  type ProviderRetryPolicy,
  parseRetryAfter,
  providerRetryDelay,
} from './retry.ts';
import { SseParser } from './sse.ts';

export const ChatMessage = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export interface ChatRequest {
  messages: ChatMessage[];
  /** Overrides the provider's default model. */
  model?: string;
  maxTokens?: number;
  temperature?: number;
}

export interface ChatResult {
  text: string;
  model: string;
  finishReason: string | null;
  /** Attempts used (1 when the first one succeeded). */
  attempts: number;
}

export interface ChatOptions {
  signal?: AbortSignal;
  /** Called with each streamed piece of text as it arrives. */
  onDelta?: (text: string) => void;
}

export interface ChatProvider {
  readonly name: string;
  readonly defaultModel: string;
  chat(req: ChatRequest, options?: ChatOptions): Promise<ChatResult>;
}

export interface ProviderConfig {
  name: string;
  baseUrl: string;
  apiKey: string;
  defaultModel: string;
  /** Longest wait for response headers, and for each next chunk of the stream. */
  timeoutMs?: number;
  backoff?: ProviderRetryPolicy;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
  dispatcher?: Dispatcher;
  /** Extra headers (OpenRouter's HTTP-Referer / X-Title). */
  headers?: Record<string, string>;
}

/** One streamed chunk: only the fields we read. Unknown fields are ignored. */
const StreamChunk = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish() }).optional(),
        message: z.object({ content: z.string().nullish() }).optional(),
        finish_reason: z.string().nullish(),
      }),
    )
    .optional(),
  error: z.object({ message: z.string().optional(), code: z.unknown().optional() }).optional(),
});

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  delay(ms, undefined, signal ? { signal } : undefined);

class Attempt {
  text = '';
  model: string;
  finishReason: string | null = null;
  emitted = false;
  constructor(model: string) {
    this.model = model;
  }
}

export function createOpenAICompatibleProvider(config: ProviderConfig): ChatProvider {
  const timeoutMs = config.timeoutMs ?? 60_000;
  const backoff = config.backoff ?? PROVIDER_RETRY;
  const sleep = config.sleep ?? defaultSleep;
  const now = config.now ?? Date.now;
  const url = `${config.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const name = config.name;
  const clean = (text: string): string => scrub(text, config.apiKey).slice(0, 300);

  function applyChunk(attempt: Attempt, payload: string, options: ChatOptions): void {
    let json: unknown;
    try {
      json = JSON.parse(payload);
    } catch (err) {
      throw new ProviderResponseError(name, 'sent a stream event that is not JSON', { cause: err });
    }
    const chunk = StreamChunk.safeParse(json);
    if (!chunk.success) throw new ProviderResponseError(name, 'sent a stream event of an unknown shape');
    if (chunk.data.error) {
      throw new ProviderResponseError(
        name,
        `failed mid-stream: ${clean(chunk.data.error.message ?? 'error')}`,
      );
    }
    if (chunk.data.model) attempt.model = chunk.data.model;
    for (const choice of chunk.data.choices ?? []) {
      const piece = choice.delta?.content ?? choice.message?.content ?? '';
      if (piece) {
        attempt.text += piece;
        attempt.emitted = true;
        options.onDelta?.(piece);
      }
      if (choice.finish_reason) attempt.finishReason = choice.finish_reason;
    }
  }

  async function once(req: ChatRequest, attempt: Attempt, options: ChatOptions): Promise<Attempt> {
    const model = attempt.model;
    const body = JSON.stringify({
      model,
      messages: req.messages,
      stream: true,
      ...(req.maxTokens === undefined ? {} : { max_tokens: req.maxTokens }),
      ...(req.temperature === undefined ? {} : { temperature: req.temperature }),
    });
    const response = await httpRequest(url, {
      method: 'POST',
      headers: {
        ...config.headers,
        authorization: `Bearer ${config.apiKey}`,
        'content-type': 'application/json',
        accept: 'text/event-stream',
      },
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(config.dispatcher ? { dispatcher: config.dispatcher } : {}),
    });
    const status = response.statusCode;
    if (status < 200 || status >= 300) {
      const text = await response.body.text().catch(() => '');
      throw statusError(status, text, response.headers['retry-after']);
    }
    const type = String(response.headers['content-type'] ?? '');
    if (type.includes('application/json')) {
      // A provider that ignores `stream: true` answers with one completion object.
      applyChunk(attempt, await response.body.text(), options);
      return attempt;
    }
    if (!type.includes('text/event-stream')) {
      await response.body.dump();
      throw new ProviderResponseError(name, `answered with content-type ${clean(type) || 'none'}`);
    }
    const parser = new SseParser();
    response.body.setEncoding('utf8');
    for await (const chunk of response.body) {
      for (const data of parser.push(chunk as string)) {
        if (data.trim() === '[DONE]') return attempt;
        applyChunk(attempt, data, options);
      }
    }
    for (const data of parser.end()) {
      if (data.trim() !== '[DONE]') applyChunk(attempt, data, options);
    }
    return attempt;
  }

  function statusError(
    status: number,
    text: string,
    retryAfter: string | string[] | undefined,
  ): ProviderError {
    if (status === 401 || status === 403) {
      return new ProviderAuthError(name, `refused the API key (HTTP ${status})`, { status });
    }
    if (isRetryableStatus(status)) {
      const err = new ProviderUnavailableError(name, `answered HTTP ${status}`, {
        status,
        kind: 'retryable',
      });
      retryAfterOf.set(err, parseRetryAfter(retryAfter, now()));
      return err;
    }
    const message = readErrorBody(text)?.message;
    const detail = message ? `: ${clean(message)}` : '';
    return new ProviderRequestError(name, `refused the request (HTTP ${status})${detail}`, { status });
  }

  const retryAfterOf = new WeakMap<ProviderError, number | null>();

  function classify(err: unknown, options: ChatOptions): ProviderError {
    if (err instanceof ProviderError) return err;
    if (options.signal?.aborted) return new ProviderError(name, 'call aborted', { cause: err });
    if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
      return new ProviderTimeoutError(name, `no answer within ${timeoutMs} ms`, {
        kind: 'retryable',
        cause: err,
      });
    }
    const code = (err as { code?: string }).code ?? 'network error';
    return new ProviderUnavailableError(name, `unreachable (${code})`, { kind: 'retryable', cause: err });
  }

  return {
    name,
    defaultModel: config.defaultModel,
    async chat(req, options = {}) {
      const model = req.model ?? config.defaultModel;
      for (let attemptNo = 1; ; attemptNo++) {
        const attempt = new Attempt(model);
        try {
          await once(req, attempt, options);
          return {
            text: attempt.text,
            model: attempt.model,
            finishReason: attempt.finishReason,
            attempts: attemptNo,
          };
        } catch (raw) {
          const err = classify(raw, options);
          // Text already handed to onDelta cannot be taken back: a broken stream is not retried.
          const retryable = err.kind === 'retryable' && !attempt.emitted && !options.signal?.aborted;
          const wait = retryable
            ? providerRetryDelay(attemptNo - 1, retryAfterOf.get(err) ?? null, backoff, config.random)
            : null;
          if (wait === null) throw err;
          await sleep(wait, options.signal);
        }
      }
    },
  };
}
