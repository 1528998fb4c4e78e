// The only way out of an e2e Linux jail: a TCP→Unix-socket→TCP relay for the hive. The jail has its
// own network namespace with nothing but `lo`, so the host's loopback is out of reach. Two halves:
//   - `serveUnixToTcp(sock, port)` runs in the test (host namespace): accepts on a Unix socket in a
//     0700 host directory outside the jail root and connects each stream to the hive on 127.0.0.1;
//   - this file as a process, started with `nsenter --net` into the jail's namespace (host mount and
//     pid namespaces: invisible from inside the jail), listens on 127.0.0.1:PORT there and connects
//     each stream to that Unix socket.
// So the jail reaches exactly one port: the hive's, at the same URL the host uses (TLS passes through
// the relay untouched), and nothing else of the host.
//   node hive-link.ts --listen 127.0.0.1:PORT --to /path/to/hive.sock   (prints "ready" once listening)
import net from 'node:net';
import { parseArgs } from 'node:util';

function pipeBoth(a: net.Socket, b: net.Socket): void {
  a.pipe(b);
  b.pipe(a);
  const end = (): void => {
    a.destroy();
    b.destroy();
  };
  a.once('error', end).once('close', end);
  b.once('error', end).once('close', end);
}

/** Host half: a Unix socket server whose every connection is relayed to 127.0.0.1:port. */
export function serveUnixToTcp(sock: string, port: number): Promise<net.Server> {
  const server = net.createServer((client) => pipeBoth(client, net.connect(port, '127.0.0.1')));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(sock, () => resolve(server));
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { listen: { type: 'string' }, to: { type: 'string' } },
    strict: true,
  });
  const m = /^(127\.\d+\.\d+\.\d+):(\d+)$/.exec(values.listen ?? '');
  if (!m || !values.to) {
    process.stderr.write('usage: node hive-link.ts --listen 127.0.0.1:PORT --to SOCKET\n');
    process.exit(2);
  }
  const to = values.to;
  const server = net.createServer((client) => pipeBoth(client, net.connect(to)));
  server.listen(Number(m[2]), m[1], () => process.stdout.write('ready\n'));
  process.on('SIGTERM', () => process.exit(0));
}
