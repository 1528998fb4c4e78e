// The hive's clientError handler on an in-process node:http server (real loopback sockets): the
// status each parser error maps to, the 408 of a request that never finishes its headers, and the
// order of answers when a well-framed request is still being handled as bad bytes arrive behind it.
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.ts';
import { ErrorBody } from '../../../src/protocol/index.ts';
import { clientErrorAnswer, clientErrorResponse, installClientErrorHandler } from './client-error.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

function logSink(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { lines, log: createLogger({ name: 'hive', destination }) };
}

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

/** Opens a connection, writes `bytes` (keeping our side open), reads until the server closes. */
function exchange(port: number, bytes: string, onOpen?: (s: net.Socket) => void): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write(bytes);
      onOpen?.(sock);
    });
    sock.setEncoding('latin1').on('data', (d: string) => (got += d));
    sock.on('close', () => resolve(got));
    sock.on('error', () => undefined);
  });
}

const statuses = (raw: string): number[] =>
  [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

describe('clientErrorAnswer', () => {
  it('maps parser errors as Node does, in the §5 shape', () => {
    expect(clientErrorAnswer('HPE_HEADER_OVERFLOW').status).toBe(431);
    expect(clientErrorAnswer('HPE_CHUNK_EXTENSIONS_OVERFLOW').status).toBe(413);
    expect(clientErrorAnswer('ERR_HTTP_REQUEST_TIMEOUT').status).toBe(408);
    expect(clientErrorAnswer('HPE_INVALID_METHOD').status).toBe(400);
    expect(clientErrorAnswer(undefined).status).toBe(400);
    const text = clientErrorResponse(clientErrorAnswer('HPE_HEADER_OVERFLOW'));
    expect(text).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(text).toMatch(/\r\nconnection: close\r\n/);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(ErrorBody.parse(JSON.parse(body)).error.code).toBe('headers_too_large');
    expect(text).toContain(`content-length: ${Buffer.byteLength(body)}\r\n`);
  });
});

describe('installClientErrorHandler', () => {
  it('answers 408 in the error shape when the headers never finish', async () => {
    const { lines, log } = logSink();
    const server = createServer({
      requestTimeout: 300,
      headersTimeout: 300,
      connectionsCheckingInterval: 50,
    });
    installClientErrorHandler(server, log);
    const port = await listen(server);
    const raw = await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Secret: nope');
    expect(statuses(raw)).toEqual([408]);
    expect(raw).toContain('"code":"request_timeout"');
    expect(raw).not.toContain('nope');
    expect(lines.join('')).toContain('"code":"ERR_HTTP_REQUEST_TIMEOUT"');
    expect(lines.join('')).not.toContain('nope');
  });

  it('answers requests parsed before the bad bytes first, then the error, on one connection', async () => {
    const { log } = logSink();
    let release: () => void = () => undefined;
    let reached: () => void = () => undefined;
    const inHandler = new Promise<void>((r) => {
      reached = r;
    });
    const server = createServer((_req, res) => {
      // Still being handled (like a long-poll) when the bad bytes arrive behind it.
      release = () => res.writeHead(200, { 'content-length': '2' }).end('ok');
      reached();
    });
    installClientErrorHandler(server, log);
    // Runs after the handler under test saw the bad bytes: only then does the first answer go out.
    server.on('clientError', () => release());
    const port = await listen(server);
    const raw = exchange(port, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n', (sock) => {
      void inHandler.then(() => sock.write('\x01\x02 garbage\r\n\r\n'));
    });
    const text = await raw;
    expect(statuses(text), JSON.stringify(text)).toEqual([200, 400]);
    expect(text).toContain('\r\n\r\nok');
    expect(text).toContain('"code":"bad_request"');
  });

  it('a request whose own body is malformed gets the error as its answer', async () => {
    const { log } = logSink();
    let handled = 0;
    const server = createServer((req) => {
      handled += 1;
      req.resume(); // the body never completes: the parser fails inside it
    });
    installClientErrorHandler(server, log);
    const port = await listen(server);
    const raw = await exchange(
      port,
      'POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nsecret-ish\r\n',
    );
    expect(handled).toBe(1);
    expect(statuses(raw)).toEqual([400]);
    expect(raw).not.toContain('secret-ish');
  });
});
