// Typed errors of LLM providers. Messages name the provider and the HTTP status, never the API key
// (bodies of 401 answers are dropped entirely: some providers echo part of the key there).
import { ClawdieError, type ErrorKind } from '../errors.ts';

export class ProviderError extends ClawdieError {
  readonly provider: string;
  readonly status: number | undefined;
  /** The server's Retry-After, in ms from when it answered (null when absent or unreadable). */
  readonly retryAfterMs: number | null;

  constructor(
    provider: string,
    message: string,
    options: { status?: number; kind?: ErrorKind; cause?: unknown; retryAfterMs?: number | null } = {},
  ) {
    super(`provider ${provider}: ${message}`, options);
    this.provider = provider;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

/** 401/403: the key is missing, wrong or revoked. Retrying cannot help. */
export class ProviderAuthError extends ProviderError {}
/** Other 4xx (400 bad model, bad request): our request is wrong. Retrying cannot help. */
export class ProviderRequestError extends ProviderError {}
/** The model (or every endpoint serving it) takes no tools: ask again without them. */
export class ProviderToolsUnsupportedError extends ProviderRequestError {}
/** 429, 5xx, network failures: retried with backoff; thrown when the attempts are spent. */
export class ProviderUnavailableError extends ProviderError {}
/** No answer (or no next chunk) within the timeout. */
export class ProviderTimeoutError extends ProviderError {}
/** A 2xx answer we cannot read (not SSE/JSON, an error event mid-stream). */
export class ProviderResponseError extends ProviderError {}

/** Removes every occurrence of `secret` from `text` (for provider messages we pass on). */
export function scrub(text: string, secret: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return secret.length >= 4 ? oneLine.split(secret).join('[redacted]') : oneLine;
}
