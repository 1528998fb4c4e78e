// Typed hive failures (DESIGN §10): what went wrong (`reason`), whether retrying can help (`kind`:
// 429, 5xx and network errors are retryable, other 4xx are not) and the cause for the log.
// Pure classification functions sit beside the class so they can be tested without a server.
import { ClawdieError, type ErrorKind } from '../errors.ts';
import { tlsRefusal } from './tls/policy.ts';

export type HiveFailure =
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'rate-limited'
  | 'server'
  | 'client'
  | 'network'
  | 'timeout'
  /** The hive's certificate or key was refused (tls/policy.ts): wait and retry, never plain text. */
  | 'tls'
  | 'bad-response'
  | 'aborted'
  | 'no-credentials';

export class HiveError extends ClawdieError {
  readonly reason: HiveFailure;
  readonly status: number | undefined;

  constructor(message: string, reason: HiveFailure, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause, kind: failureKind(reason) });
    this.reason = reason;
    this.status = options.status;
  }
}

/** A malformed answer (not JSON, wrong shape) is the hive's or the path's fault, like a 5xx: retry. */
export function failureKind(reason: HiveFailure): ErrorKind {
  return reason === 'rate-limited' ||
    reason === 'server' ||
    reason === 'network' ||
    reason === 'timeout' ||
    reason === 'tls' ||
    reason === 'bad-response'
    ? 'retryable'
    : 'fatal';
}

export function failureOfStatus(status: number): HiveFailure {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404 || status === 410) return 'not-found';
  if (status === 409) return 'conflict';
  if (status === 408 || status === 429) return 'rate-limited';
  if (status >= 500) return 'server';
  return 'client';
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** Classifies a thrown transport error (undici or the OS); anything unknown counts as network. */
export function failureOfThrown(err: unknown): HiveFailure {
  if (err instanceof HiveError) return err.reason;
  const e = err as { name?: string; code?: string } | undefined;
  if (e?.name === 'AbortError' || e?.code === 'UND_ERR_ABORTED' || e?.code === 'ABORT_ERR') return 'aborted';
  if (e?.code && TIMEOUT_CODES.has(e.code)) return 'timeout';
  if (tlsRefusal(err) !== null) return 'tls';
  return 'network';
}

export const isHiveError = (err: unknown, reason?: HiveFailure): err is HiveError =>
  err instanceof HiveError && (reason === undefined || err.reason === reason);
