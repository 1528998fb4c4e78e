// The hive's 'clientError' handler: a request Node's HTTP parser cannot frame (bad request line,
// bad header, headers over the limit, a request that timed out) is answered in the §5 error shape
// instead of Node's bare status line, then the connection is closed. Input: the parser's error and
// the raw socket. Output: one complete HTTP/1.1 response (never the request's bytes: err.rawPacket
// is not read) and one log line naming only the error code and the status.
import { type Server, STATUS_CODES } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../src/log.ts';
import { type ErrorBody, MAX_POLL_WAIT_SECONDS } from '../../../src/protocol/index.ts';
import { HttpError } from './http-error.ts';

/** The §5 error for a parser or socket error code, as Node's default handler picks its status. */
export function clientErrorAnswer(code: string | undefined): HttpError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new HttpError('headers_too_large', 'request headers exceed the limit');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new HttpError('payload_too_large', 'chunk extensions exceed the limit');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new HttpError('request_timeout', 'request not received in time');
    default:
      return new HttpError('bad_request', 'malformed HTTP request');
  }
}

/** The complete response: status line, headers, the one-line JSON body. */
export function clientErrorResponse(err: HttpError): string {
  const body: ErrorBody = err.body();
  const text = JSON.stringify(body);
  return [
    `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? 'Error'}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(text)}`,
    'cache-control: no-store',
    'connection: close',
    '',
    text,
  ].join('\r\n');
}

/** Errors of a connection that is already gone: there is nobody to answer. */
const GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'ERR_STREAM_DESTROYED']);

/** What of Node's per-connection state we read: the response currently writing to the socket. */
interface InFlight {
  headersSent: boolean;
  req: { complete: boolean };
  once(event: 'close', fn: () => void): unknown;
}

/**
 * The response currently using the socket, if any: Node keeps it as `_httpMessage` (its own default
 * handler reads the same field); later pipelined responses wait in Node's queue behind it.
 */
const inFlight = (socket: Duplex): InFlight | null =>
  (socket as Duplex & { _httpMessage?: InFlight | null })._httpMessage ?? null;

/** How long an answered connection may still drain what the client sends before it is cut. */
const DRAIN_MS = 2000;
/** The longest an earlier request's answer is awaited (a long-poll waits up to its `wait`). */
const QUEUE_WAIT_MS = (MAX_POLL_WAIT_SECONDS + 10) * 1000;

export function installClientErrorHandler(server: Server | HttpsServer, log: Logger): void {
  // Sockets already being answered: the failed parser reports every further chunk as another
  // error, which is dropped until the client closes or the drain time ends (closing a socket with
  // unread bytes sends a reset that could discard our answer before the client reads it).
  const answered = new WeakSet<Duplex>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (answered.has(socket)) return;
    const code = typeof err.code === 'string' ? err.code : undefined;
    if ((code !== undefined && GONE.has(code)) || !socket.writable) {
      socket.destroy();
      return;
    }
    answered.add(socket);
    socket.on('error', () => socket.destroy());
    const answer = clientErrorAnswer(code);
    log.warn({ code: code ?? 'unknown', status: answer.status }, 'malformed request refused');
    const cap = setTimeout(() => socket.destroy(), QUEUE_WAIT_MS).unref();
    socket.once('close', () => clearTimeout(cap));
    // Requests parsed in full before the bad bytes are answered first, in order; the error answer
    // goes last. A request whose own body was cut by the bad bytes gets the error as its answer.
    const answerWhenFree = (): void => {
      if (socket.destroyed || !socket.writable) return;
      const current = inFlight(socket);
      if (current?.req.complete === true) {
        current.once('close', () => setImmediate(answerWhenFree));
        return;
      }
      clearTimeout(cap);
      if (current?.headersSent === true) {
        socket.destroy(); // never interleave with an answer already under way
        return;
      }
      socket.end(clientErrorResponse(answer), () => {
        setTimeout(() => socket.destroy(), DRAIN_MS).unref();
      });
    };
    answerWhenFree();
  });
}
