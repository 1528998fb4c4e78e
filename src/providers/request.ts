// One chat completions request: the JSON body as the provider wants it (its quirks applied), the
// POST with the key only in the Authorization header, and a non-2xx answer turned into a typed error.
// Provider quirks, from their current documentation:
// - DeepSeek thinking mode (on by default): an assistant turn that called tools must carry its
//   `reasoning_content` back in every later request, or the API answers 400; and thinking mode
//   refuses forced `tool_choice` values ("required", a named function). We never send `tool_choice`:
//   with tools present its default is "auto", which is all the loop wants.
// - OpenRouter, preserving reasoning blocks: a tool-call turn's `reasoning_details` go back unmodified
//   in every later request (the models behind it check their signed thinking blocks).
// - A model without tool support: OpenRouter answers 404 "No endpoints found that support tool use",
//   others 400 "… does not support tools"; that becomes ProviderToolsUnsupportedError (retried
//   without tools by the caller).
import type { Dispatcher } from 'undici';
import { readErrorBody } from '../protocol/errors.ts';
import {
  ProviderAuthError,
  type ProviderError,
  ProviderRequestError,
  ProviderToolsUnsupportedError,
  ProviderUnavailableError,
} from './errors.ts';
import { httpRequest } from './http.ts';
import type { ChatMessage, ChatRequest } from './messages.ts';
import { isRetryableStatus, parseRetryAfter } from './retry.ts';

export interface ProviderQuirks {
  /** Send `reasoning_content` back on assistant turns that called tools (DeepSeek thinking mode). */
  echoReasoning?: boolean;
  /** Send `reasoning_details` back on assistant turns that called tools (OpenRouter). */
  echoReasoningDetails?: boolean;
}

export interface Endpoint {
  provider: string;
  url: string;
  apiKey: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  dispatcher?: Dispatcher;
  /** Scrubs the key from provider text we pass on. */
  clean: (text: string) => string;
  now: () => number;
}

/** The messages as this provider takes them: each kind of reasoning only where it is wanted back. */
export function wireMessages(messages: readonly ChatMessage[], quirks: ProviderQuirks): ChatMessage[] {
  return messages.map((m) => {
    if (m.role !== 'assistant') return m;
    const { reasoning_content, reasoning_details, ...rest } = m;
    return {
      ...rest,
      ...(quirks.echoReasoning && reasoning_content !== undefined ? { reasoning_content } : {}),
      ...(quirks.echoReasoningDetails && reasoning_details !== undefined ? { reasoning_details } : {}),
    };
  });
}

/** Pure: the request body. `withTools` false sends the same conversation as a plain completion. */
export function requestBody(
  req: ChatRequest,
  model: string,
  quirks: ProviderQuirks,
  withTools: boolean,
): Record<string, unknown> {
  const tools = withTools && req.tools && req.tools.length > 0 ? req.tools : undefined;
  return {
    model,
    messages: wireMessages(req.messages, quirks),
    stream: true,
    ...(tools ? { tools } : {}),
    ...(req.maxTokens === undefined ? {} : { max_tokens: req.maxTokens }),
    ...(req.temperature === undefined ? {} : { temperature: req.temperature }),
  };
}

/** A refusal that says the model takes no tools (the wording varies by provider). */
export const saysToolsUnsupported = (status: number, message: string): boolean =>
  (status === 400 || status === 404 || status === 422) &&
  /\btool/i.test(message) &&
  /support|unavailable|not available|not enabled/i.test(message);

/** A non-2xx answer as a typed error; 401 bodies are never read (some echo part of the key). */
export function statusError(
  endpoint: Endpoint,
  status: number,
  text: string,
  retryAfter: string | string[] | undefined,
): ProviderError {
  const name = endpoint.provider;
  if (status === 401 || status === 403) {
    return new ProviderAuthError(name, `refused the API key (HTTP ${status})`, { status });
  }
  if (isRetryableStatus(status)) {
    return new ProviderUnavailableError(name, `answered HTTP ${status}`, {
      status,
      kind: 'retryable',
      retryAfterMs: parseRetryAfter(retryAfter, endpoint.now()),
    });
  }
  const message = readErrorBody(text)?.message ?? '';
  const detail = message ? `: ${endpoint.clean(message)}` : '';
  const Refusal = saysToolsUnsupported(status, message)
    ? ProviderToolsUnsupportedError
    : ProviderRequestError;
  return new Refusal(name, `refused the request (HTTP ${status})${detail}`, { status });
}

/** POSTs the body; resolves with a 2xx response whose body is still to be read. */
export async function postCompletion(
  endpoint: Endpoint,
  body: Record<string, unknown>,
  signal: AbortSignal | undefined,
): Promise<Dispatcher.ResponseData> {
  const response = await httpRequest(endpoint.url, {
    method: 'POST',
    headers: {
      ...endpoint.headers,
      authorization: `Bearer ${endpoint.apiKey}`,
      'content-type': 'application/json',
      accept: 'text/event-stream',
    },
    body: JSON.stringify(body),
    headersTimeout: endpoint.timeoutMs,
    bodyTimeout: endpoint.timeoutMs,
    ...(signal ? { signal } : {}),
    ...(endpoint.dispatcher ? { dispatcher: endpoint.dispatcher } : {}),
  });
  const status = response.statusCode;
  if (status >= 200 && status < 300) return response;
  const text = status === 401 || status === 403 ? '' : await response.body.text().catch(() => '');
  if (status === 401 || status === 403) await response.body.dump().catch(() => undefined);
  throw statusError(endpoint, status, text, response.headers['retry-after']);
}
