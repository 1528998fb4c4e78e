// Typed hive failures (DESIGN §10): what went wrong (`reason`), whether retrying can help (`kind`:
// 429, 5xx and network errors are retryable, other 4xx are not) and the cause for the log.
// Pure classification functions sit beside the class so they can be tested without a server, and
// so does the one builder of the error for an HTTP error answer (answeredError), which keeps what
// the hive itself said (its §5 error code and the field it names, never its free text).
import { ClawdieError, type ErrorKind } from '../errors.ts';
import { ErrorCode, readErrorBody } from '../protocol/errors.ts';
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
  | 'no-credentials'
  /** 401 for a token the `.env` has replaced while the call was out: retry with the new one. */
  | 'stale-token';

/**
 * What the hive itself said in an error answer (DESIGN §5 shape): its code and the field it names.
 * Absent when the answer does not have that shape — it came from something in front of the hive (a
 * proxy) or from a server that is not a hive.
 */
export interface HiveAnswer {
  code: ErrorCode;
  field?: string;
}

export class HiveError extends ClawdieError {
  readonly reason: HiveFailure;
  readonly status: number | undefined;
  readonly answer: HiveAnswer | undefined;

  constructor(
    message: string,
    reason: HiveFailure,
    options: { status?: number; cause?: unknown; answer?: HiveAnswer } = {},
  ) {
    super(message, { cause: options.cause, kind: failureKind(reason) });
    this.reason = reason;
    this.status = options.status;
    this.answer = options.answer;
  }
}

/** A malformed answer (not JSON, wrong shape) is the hive's or the path's fault, like a 5xx: retry. */
export function failureKind(reason: HiveFailure): ErrorKind {
  return reason === 'rate-limited' ||
    reason === 'server' ||
    reason === 'network' ||
    reason === 'timeout' ||
    reason === 'tls' ||
    reason === 'bad-response' ||
    reason === 'stale-token'
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

/** A field the hive names is a dotted path of schema keys; anything else is not repeated. */
const FIELD_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The error for an HTTP error answer (status >= 400) to `what` ("hive register"): the reason from
 * the status; the message names the status and, from the body, only the error code and the field.
 */
export function answeredError(what: string, status: number, body: string): HiveError {
  const detail = readErrorBody(body);
  const code = ErrorCode.safeParse(detail?.code);
  const field = detail?.field !== undefined && FIELD_RE.test(detail.field) ? detail.field : undefined;
  const answer: HiveAnswer | undefined = code.success
    ? { code: code.data, ...(field === undefined ? {} : { field }) }
    : undefined;
  // A code that is not the hive's (a proxy's, a provider-style body) is still worth a glance.
  const said = answer
    ? ` (${answer.code}${answer.field === undefined ? '' : `, field ${answer.field}`})`
    : detail?.code
      ? ` (${detail.code.slice(0, 40)})`
      : '';
  return new HiveError(`${what} answered ${status}${said}`, failureOfStatus(status), { status, answer });
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
