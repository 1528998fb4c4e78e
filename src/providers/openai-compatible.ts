// OpenAI-compatible chat completions over undici (OpenRouter, DeepSeek, the fake provider): one
// streamed turn, with tools when offered. Composes request.ts (body, POST, status errors), stream.ts
// (SSE into text, reasoning and tool calls) and retry.ts (429/5xx/network retried with backoff,
// Retry-After honoured, sleep injected). A model that takes no tools is asked again without them,
// once, and the result says so. The API key goes only into the Authorization header and is scrubbed
// from anything we pass on.
import { setTimeout as delay } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import {
  ProviderError,
  ProviderTimeoutError,
  ProviderToolsUnsupportedError,
  ProviderUnavailableError,
  scrub,
} from './errors.ts';
import { undiciErrors } from './http.ts';
import type { ChatOptions, ChatProvider, ChatRequest, ChatResult } from './messages.ts';
import { type Endpoint, type ProviderQuirks, postCompletion, requestBody } from './request.ts';
import { PROVIDER_RETRY, type ProviderRetryPolicy, withRetries } from './retry.ts';
import { Accumulator, readCompletion } from './stream.ts';

export type {
  AssembledToolCall,
  ChatMessage,
  ChatOptions,
  ChatProvider,
  ChatRequest,
  ChatResult,
  ToolDefinition,
} from './messages.ts';

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
  quirks?: ProviderQuirks;
}

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  delay(ms, undefined, signal ? { signal } : undefined);

export function createOpenAICompatibleProvider(config: ProviderConfig): ChatProvider {
  const name = config.name;
  const quirks = config.quirks ?? {};
  const endpoint: Endpoint = {
    provider: name,
    url: `${config.baseUrl.replace(/\/+$/, '')}/chat/completions`,
    apiKey: config.apiKey,
    timeoutMs: config.timeoutMs ?? 60_000,
    clean: (text) => scrub(text, config.apiKey).slice(0, 300),
    now: config.now ?? Date.now,
    ...(config.headers ? { headers: config.headers } : {}),
    ...(config.dispatcher ? { dispatcher: config.dispatcher } : {}),
  };

  function classify(err: unknown, signal: AbortSignal | undefined): ProviderError {
    if (err instanceof ProviderError) return err;
    if (signal?.aborted) return new ProviderError(name, 'call aborted', { cause: err });
    if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
      return new ProviderTimeoutError(name, `no answer within ${endpoint.timeoutMs} ms`, {
        kind: 'retryable',
        cause: err,
      });
    }
    const code = (err as { code?: string }).code ?? 'network error';
    return new ProviderUnavailableError(name, `unreachable (${code})`, { kind: 'retryable', cause: err });
  }

  async function turn(req: ChatRequest, model: string, withTools: boolean, options: ChatOptions) {
    let acc: Accumulator | undefined;
    const attempts = await withRetries(
      {
        policy: config.backoff ?? PROVIDER_RETRY,
        sleep: config.sleep ?? defaultSleep,
        ...retryExtras(config, options),
      },
      async (attemptNo) => {
        acc = new Accumulator({ provider: name, model, clean: endpoint.clean, onDelta: options.onDelta });
        const response = await postCompletion(
          endpoint,
          requestBody(req, model, quirks, withTools),
          options.signal,
        );
        await readCompletion(response, acc);
        return attemptNo;
      },
      // Text already handed to onDelta cannot be taken back: a broken stream is not repeated.
      (thrown) => ({ error: classify(thrown, options.signal), repeatable: !acc?.emitted }),
    );
    return { acc: acc!, attempts };
  }

  return {
    name,
    defaultModel: config.defaultModel,
    async chat(req, options = {}) {
      const model = req.model ?? config.defaultModel;
      const offered = (req.tools?.length ?? 0) > 0;
      let toolsDropped = false;
      let done: Awaited<ReturnType<typeof turn>>;
      try {
        done = await turn(req, model, offered, options);
      } catch (err) {
        if (!(err instanceof ProviderToolsUnsupportedError) || !offered) throw err;
        // The model answers plainly instead (DESIGN §7): same conversation, no tools.
        toolsDropped = true;
        done = await turn(req, model, false, options);
      }
      const { acc, attempts } = done;
      const result: ChatResult = {
        text: acc.text,
        model: acc.model,
        finishReason: acc.finishReason,
        attempts,
        toolCalls: toolsDropped ? [] : acc.calls.calls(),
        reasoning: acc.reasoning,
        reasoningDetails: acc.reasoningDetails.details(),
        toolsDropped,
      };
      return result;
    },
  };
}

function retryExtras(config: ProviderConfig, options: ChatOptions) {
  return {
    ...(config.random ? { random: config.random } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
}
