// The typed error every hive handler throws; the HTTP shell turns it into the §5 error body.
import { ClawdieError } from '../../../src/errors.ts';
import type { ErrorCode } from '../../../src/protocol/index.ts';

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  headers_too_large: 431,
  internal: 500,
  unavailable: 503,
};

export class HttpError extends ClawdieError {
  readonly status: number;
  readonly code: ErrorCode;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.code = code;
    this.status = STATUS[code];
    this.field = field;
  }

  body(): { error: { code: string; message: string; field?: string } } {
    return {
      error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) },
    };
  }
}

export const badRequest = (message: string, field?: string): HttpError =>
  new HttpError('bad_request', message, field);
export const forbidden = (message: string, field?: string): HttpError =>
  new HttpError('forbidden', message, field);
export const notFound = (message: string, field?: string): HttpError =>
  new HttpError('not_found', message, field);
export const conflict = (message: string): HttpError => new HttpError('conflict', message);
export const unauthorized = (): HttpError => new HttpError('unauthorized', 'missing or invalid bearer token');
