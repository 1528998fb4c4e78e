// The only way out of a Linux jail in the tests and benches: the hive, relayed. A jail has its own
// network namespace with nothing but `lo`, so the host's loopback is out of reach.
// `linkJailToHive(pid, port)` starts a short-lived child with `nsenter --net` into the jail's
// network namespace (host mount and pid namespaces: invisible from inside the jail); it brings `lo`
// up, opens a listening socket on 127.0.0.1:PORT there and hands it to the calling process over
// node's IPC channel (a net.Server handle, as cluster does), then exits. The caller accepts on it
// and connects each stream to the hive on the host's 127.0.0.1:PORT: one relay process for every
// jail, nothing left running in the jail. So the jail reaches exactly one port, the hive's, at the
// same URL the host uses (TLS passes through the relay untouched), and nothing else
// of the host. A jail restarted (new namespaces) is linked again.
//   node hive-link.ts --listen-in-netns 127.0.0.1:PORT   (the child; needs the IPC channel)
import { execFileSync, spawn } from 'node:child_process';
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
  const { values } = parseArgs({ options: { 'listen-in-netns': { type: 'string' } }, strict: true });
  const m = /^(127\.\d+\.\d+\.\d+):(\d+)$/.exec(values['listen-in-netns'] ?? '');
  if (!m || !process.send) {
    process.stderr.write('usage (with an IPC channel): node hive-link.ts --listen-in-netns 127.0.0.1:PORT\n');
    process.exit(2);
  }
  // `ip link set lo up` needs CAP_NET_ADMIN in the namespace: nsenter runs this as root.
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  const server = net.createServer();
  server.listen(Number(m[2]), m[1], () => {
    process.send?.('listening', server, () => process.exit(0));
  });
}
