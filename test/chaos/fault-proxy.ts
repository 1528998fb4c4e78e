// A TCP proxy on loopback port 0 between the agents and the hive, steered by the test: pass
// through, delay new connections, drop every open connection (mid-long-poll), or answer new
// connections itself with a 5xx, a 401 or a 200 carrying garbage JSON. Modes apply to connections
// opened after the switch; drop() forces the agents' keep-alive pools to reconnect into the mode.
import net from 'node:net';

export type ProxyMode =
  | { kind: 'pass' }
  | { kind: 'delay'; ms: number }
  | { kind: 'status'; status: 500 | 502 | 503 | 401 }
  | { kind: 'garbage' };

export interface FaultProxy {
  readonly url: string;
  setMode(mode: ProxyMode): void;
  /** Destroys every open connection (both sides); returns how many were cut. */
  drop(): number;
  /** Connections accepted so far and answered by the proxy itself. */
  stats(): { accepted: number; answered: number; dropped: number };
  close(): Promise<void>;
}

const REASON: Record<number, string> = {
  200: 'OK',
  401: 'Unauthorized',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

function answer(socket: net.Socket, status: number, body: string): void {
  // Read the request head first so the client sees a response to what it sent, not a reset.
  let head = '';
  const onData = (d: Buffer): void => {
    head += d.toString('latin1');
    if (!head.includes('\r\n\r\n')) return;
    socket.off('data', onData);
    socket.end(
      `HTTP/1.1 ${status} ${REASON[status] ?? 'X'}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  };
  socket.on('data', onData);
}

const GARBAGE = ['{"taskId": ', '<html>oops</html>', '{"drain": tru', '\u0000\u0001{]', 'null'];

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let mode: ProxyMode = { kind: 'pass' };
  const open = new Set<net.Socket>();
  let accepted = 0;
  let answered = 0;
  let dropped = 0;
  let garbageNo = 0;

  const server = net.createServer((client) => {
    accepted += 1;
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => {});
    const m = mode;
    if (m.kind === 'status') {
      answered += 1;
      const code = m.status === 401 ? 'unauthorized' : 'unavailable';
      answer(client, m.status, JSON.stringify({ error: { code, message: 'injected by the chaos proxy' } }));
      return;
    }
    if (m.kind === 'garbage') {
      answered += 1;
      answer(client, 200, GARBAGE[garbageNo++ % GARBAGE.length] ?? '');
      return;
    }
    client.pause();
    const connect = (): void => {
      if (client.destroyed) return;
      const upstream = net.connect(target.port, target.host);
      open.add(upstream);
      upstream.on('close', () => {
        open.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('connect', () => {
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    if (m.kind === 'delay') setTimeout(connect, m.ms);
    else connect();
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    setMode(m) {
      mode = m;
    },
    drop() {
      const n = open.size;
      for (const s of open) s.destroy();
      dropped += n;
      return n;
    },
    stats: () => ({ accepted, answered, dropped }),
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
