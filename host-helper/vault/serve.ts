// A session's `bw serve`: bw's local REST API bound to a Unix socket inside a 0700 directory the
// wrapper owns (no TCP port, so no other user and no jail can reach the unlocked vault), used for
// unlock, list and lock without paying bw's ~3 s start-up per call. Started only for one session
// and stopped (process group killed) at its end.
import type { ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { type BwRunner, killGroup, notInstalled, spawnBw } from './bw-process.ts';
import { VaultError } from './errors.ts';

export interface ServeReply {
  success: boolean;
  message?: string;
  data?: unknown;
}

export interface ServeHandle {
  /** One API call; resolves with bw's reply (success or not), rejects on transport failure/timeout. */
  call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ServeReply>;
  stop(): Promise<void>;
  /** The serve process id (its process group), recorded so a later session can reap a leftover. */
  pid: number | undefined;
}

const POLL_MS = 50;

function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(socketPath);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export async function startServe(runner: BwRunner, socketDir: string): Promise<ServeHandle> {
  const socketPath = join(socketDir, 'bw.sock');
  const start = Date.now();
  const child: ChildProcess = spawnBw(runner, ['serve', '--hostname', `unix://${socketPath}`], {});
  const stderr: Buffer[] = [];
  child.stderr?.on('data', (b: Buffer) => stderr.push(b));
  child.stdout?.resume();
  let exited = false;
  let spawnError: unknown;
  const closed = new Promise<void>((resolve) => {
    child.once('error', (e) => {
      spawnError = e;
      exited = true;
      resolve();
    });
    child.once('close', (code) => {
      exited = true;
      if (child.pid !== undefined) {
        runner.onProcess?.({ pid: child.pid, command: 'serve', start, end: Date.now(), exitCode: code });
      }
      resolve();
    });
  });

  const stop = async (): Promise<void> => {
    killGroup(child, 'SIGTERM');
    const grace = setTimeout(() => killGroup(child, 'SIGKILL'), 2000);
    await closed;
    clearTimeout(grace);
  };

  const deadline = start + runner.timeoutMs;
  while (!(await canConnect(socketPath))) {
    if (exited) {
      if (spawnError) throw notInstalled(runner.bin, spawnError);
      const text = Buffer.concat(stderr).toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
      throw new VaultError('bw_failed', `bw serve exited before listening: ${text || 'no message'}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new VaultError('timeout', `bw serve did not start within ${runner.timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }

  const call = (method: 'GET' | 'POST', path: string, body?: unknown): Promise<ServeReply> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = httpRequest(
        {
          socketPath,
          // A fresh connection per call: Node's global agent keeps connections alive, and bw serve
          // closes an idle one after 5 s; a host process starved of CPU can write its next call on
          // a connection closed meanwhile (EPIPE, seen once in the full crash suite at load ~20).
          agent: false,
          method,
          path,
          // bw serve checks Host against localhost:<port> (8087 when --port is not given).
          headers: { host: 'localhost:8087', 'content-type': 'application/json' },
          timeout: runner.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ServeReply);
            } catch (err) {
              reject(
                new VaultError('bw_failed', `bw serve answered ${method} ${path} with non-JSON`, {
                  cause: err,
                }),
              );
            }
          });
        },
      );
      req.once('timeout', () => {
        req.destroy();
        reject(
          new VaultError(
            'timeout',
            `bw serve ${method} ${path} took longer than ${runner.timeoutMs} ms: check that vault.server answers`,
          ),
        );
      });
      req.once('error', (err) => {
        if (err instanceof VaultError) reject(err);
        else
          reject(
            new VaultError('bw_failed', `bw serve ${method} ${path} failed: ${err.message}`, { cause: err }),
          );
      });
      req.end(payload);
    });

  return { call, stop, pid: child.pid };
}
