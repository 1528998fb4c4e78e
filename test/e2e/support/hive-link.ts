// The only way out of an e2e Linux jail: a TCP→Unix-socket→TCP relay for the hive. The jail has its
// own network namespace with nothing but `lo`, so the host's loopback is out of reach. Two halves:
//   - `serveUnixToTcp(sock, port)` runs in the test (host namespace): accepts on a Unix socket in a
//     0700 host directory outside the jail root and connects each stream to the hive on 127.0.0.1;
//   - this file as a process, started with `nsenter --net` into the jail's namespace (host mount and
//     pid namespaces: invisible from inside the jail), listens on 127.0.0.1:PORT there and connects
//     each stream to that Unix socket.
// So the jail reaches exactly one port: the hive's, at the same URL the host uses (loopback, as the
// host config requires for plain http), and nothing else of the host.
//   node hive-link.ts --listen 127.0.0.1:PORT --to /path/to/hive.sock   (prints "ready" once listening)
//
// `linkJailToHive(pid, port)` does the same for many jails from one process: a short-lived child,
// started with `nsenter --net` into the jail's network namespace, brings its `lo` up, opens the
// listening socket there and hands it to the test process over node's IPC channel (a net.Server
// handle, as cluster does), then exits. The test process accepts on it and connects each stream
// to the hive on the host's loopback: one relay process for every jail, nothing left in the jail.
//   node hive-link.ts --listen-in-netns 127.0.0.1:PORT   (run under nsenter with an IPC channel)
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
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

/**
 * Makes 127.0.0.1:`port` inside the network namespace of process `pid` lead to the hive on the
 * host's 127.0.0.1:`port`. Resolves with the server (close it to cut the link).
 */
export function linkJailToHive(pid: number, port: number, node = process.execPath): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'nsenter',
      [
        `--net=/proc/${pid}/ns/net`,
        '--',
        node,
        fileURLToPath(import.meta.url),
        '--listen-in-netns',
        `127.0.0.1:${port}`,
      ],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    child.once('message', (_msg, handle) => {
      const server = handle as net.Server;
      server.on('connection', (c) => pipeBoth(c, net.connect(port, '127.0.0.1')));
      resolve(server);
    });
    child.once('exit', (code) => reject(new Error(`hive link for pid ${pid} exited ${String(code)}`)));
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string' },
      to: { type: 'string' },
      'listen-in-netns': { type: 'string' },
    },
    strict: true,
  });
  const inNetns = /^(127\.\d+\.\d+\.\d+):(\d+)$/.exec(values['listen-in-netns'] ?? '');
  if (inNetns && process.send) {
    // `ip link set lo up` needs CAP_NET_ADMIN in the namespace: nsenter runs us as root.
    const { execFileSync } = await import('node:child_process');
    execFileSync('ip', ['link', 'set', 'lo', 'up']);
    const server = net.createServer();
    server.listen(Number(inNetns[2]), inNetns[1], () => {
      process.send?.('listening', server, () => process.exit(0));
    });
  } else {
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
}
