// node:http plumbing of the hive: bounded JSON body reading (413 without buffering past 1 MiB),
// zod validation into 400s naming the field, and the one error shape of DESIGN §5.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { firstProblem, MAX_BODY_BYTES } from '../../../src/protocol/index.ts';
import { badRequest, HttpError } from './http-error.ts';

/**
 * Reads the body as JSON whatever its content-type says (curl -d sends form-urlencoded); an empty
 * body is `undefined`. Stops reading at the limit.
 */
export function readJson(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        done = true;
        cleanup();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      if (done) return;
      done = true;
      cleanup();
      if (size === 0) {
        resolve(undefined);
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(chunks, size).toString('utf8')) as unknown);
      } catch {
        reject(badRequest('malformed JSON body'));
      }
    };
    const onError = (err: Error): void => {
      if (done) return;
      done = true;
      cleanup();
      reject(err);
    };
    // A client that goes away mid-body never sends 'end': settle instead of waiting forever.
    const onClose = (): void => onError(new HttpError('bad_request', 'request body incomplete'));
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function tooLarge(): HttpError {
  return new HttpError('payload_too_large', `body exceeds ${MAX_BODY_BYTES} bytes`);
}

/** Validates with zod; the 400 names the first failing field and never echoes its value. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, label = 'body'): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const { field, message } = firstProblem(r.error);
  throw badRequest(`${field || label}: ${message}`.replace(/\s+/g, ' '), field || label);
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: 204): void {
  res.writeHead(status, { 'cache-control': 'no-store' });
  res.end();
}

/** Writes the §5 error body; for 413 the connection is closed so the unread rest is never read. */
export function sendError(req: IncomingMessage, res: ServerResponse, err: HttpError): void {
  if (res.headersSent || res.destroyed) return;
  if (err.code === 'payload_too_large') {
    res.setHeader('connection', 'close');
    // Discard (not buffer) what the client is still sending, so it can read the answer; the
    // socket closes after the response, and a client that keeps sending is cut off shortly after.
    req.resume();
    res.on('finish', () => setTimeout(() => req.socket.destroy(), 2000).unref());
  }
  sendJson(res, err.status, err.body());
}
