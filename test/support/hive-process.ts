// Test support: runs the reference hive coordinator (`clawdie-host hive serve`) as a real process on
// a loopback port, with a fresh admin token passed by env (never argv) and a temp SQLite file.
// restart() reuses the same port and database, so URLs handed to agents stay valid.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Agent, type Dispatcher, fetch as undiciFetch } from 'undici';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(REPO_ROOT, 'host-helper/cli.ts');

/** Node 24 from node_modules (the system node may be older), else the running one. */
export function nodeBinary(): string {
  const pinned = join(REPO_ROOT, 'node_modules/.bin/node');
  return existsSync(pinned) ? pinned : process.execPath;
}

export interface StartHiveOptions {
  /** Defaults to a fresh file in a temp dir that stop() removes; a postgres:// URL selects PostgreSQL. */
  dbPath?: string;
  /** Defaults to a fresh random one; replicas sharing a database share it. */
  adminToken?: string;
  heartbeatSeconds?: number;
  pollSeconds?: number;
  leaseSeconds?: number;
  /** Extra environment for the coordinator process. */
  env?: Record<string, string>;
  /** Passed as `--spawn-policy-file` (DESIGN §8); without it every spawn is refused. */
  spawnPolicyFile?: string;
  /** HTTPS: `--tls-cert`/`--tls-key` files, and the CA (PEM) this helper's own requests trust. */
  tls?: { certFile: string; keyFile: string; ca: string };
  /** More flags for `hive serve` (metrics, …). */
  args?: string[];
}

export interface HiveProcess {
  /** Base URL, e.g. http://127.0.0.1:41234 (stable across restart()). */
  readonly url: string;
  readonly adminToken: string;
  readonly dbPath: string;
  /** The current child process (replaced by restart()). */
  readonly child: ChildProcess;
  /** Everything the coordinator wrote to stdout and stderr so far, across restarts. */
  output(): string;
  /** Mints (or replaces) a tenant token through the admin API. */
  mintToken(tenant: string, options?: { shared?: boolean }): Promise<string>;
  /** fetch against this hive (trusting its test CA when it serves HTTPS). */
  fetch(
    path: string,
    init?: { method?: string; headers?: Record<string, string>; body?: string },
  ): Promise<Response>;
  /** SIGTERM, wait for exit, remove the temp dir (if the db was ours). Safe to call twice. */
  stop(): Promise<void>;
  /** Sends a signal and waits for the process to exit; resolves to its exit code or signal. */
  kill(signal?: NodeJS.Signals): Promise<number | string | null>;
  /** Stops the process (SIGTERM unless told otherwise) and starts it again on the same port and db. */
  restart(options?: { signal?: NodeJS.Signals }): Promise<void>;
}

interface Running {
  child: ChildProcess;
  url: string;
  exited: Promise<number | string | null>;
}

async function launch(
  listen: string,
  dbPath: string,
  adminToken: string,
  o: StartHiveOptions,
  sink: string[],
): Promise<Running> {
  const args = [CLI, 'hive', 'serve', '--listen', listen, '--db', dbPath];
  if (o.heartbeatSeconds !== undefined) args.push('--heartbeat-seconds', String(o.heartbeatSeconds));
  if (o.pollSeconds !== undefined) args.push('--poll-seconds', String(o.pollSeconds));
  if (o.leaseSeconds !== undefined) args.push('--lease-seconds', String(o.leaseSeconds));
  if (o.spawnPolicyFile !== undefined) args.push('--spawn-policy-file', o.spawnPolicyFile);
  if (o.tls) args.push('--tls-cert', o.tls.certFile, '--tls-key', o.tls.keyFile);
  args.push(...(o.args ?? []));
  const child = spawn(nodeBinary(), args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...o.env, CLAWDIE_HIVE_ADMIN_TOKEN: adminToken },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | string | null>((res) => {
    child.once('exit', (code, signal) => res(code ?? signal));
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => sink.push(d));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`hive did not start in 20 s:\n${sink.join('')}`)), 20_000);
    let first = true;
    lines.on('line', (line) => {
      sink.push(`${line}\n`);
      if (!first) return;
      first = false;
      clearTimeout(timer);
      res(line.trim());
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`hive exited (${String(code)}) before printing its URL:\n${sink.join('')}`));
    });
  });
  if (!/^https?:\/\/[^/]+:\d+$/.test(url)) throw new Error(`unexpected first line from hive: ${url}`);
  return { child, url, exited };
}

export async function startHive(options: StartHiveOptions = {}): Promise<HiveProcess> {
  const ownDir = options.dbPath === undefined ? await mkdtemp(join(tmpdir(), 'clawdie-hive-')) : null;
  const dbPath = options.dbPath ?? join(ownDir!, 'hive.db');
  const adminToken = options.adminToken ?? randomBytes(32).toString('base64url');
  const sink: string[] = [];
  let running = await launch('127.0.0.1:0', dbPath, adminToken, options, sink);
  const url = running.url;
  const port = new URL(url).port;
  let stopped = false;
  const dispatcher: Dispatcher | undefined = options.tls
    ? new Agent({ connect: { ca: options.tls.ca } })
    : undefined;
  const hiveFetch: HiveProcess['fetch'] = (path, init = {}) =>
    (dispatcher
      ? undiciFetch(`${url}${path}`, { ...init, dispatcher })
      : fetch(`${url}${path}`, init)) as Promise<Response>;

  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string | null> => {
    const { child, exited } = running;
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill(signal);
    // A coordinator that does not stop within 10 s is killed, so a test never hangs on teardown.
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const out = await exited;
    clearTimeout(force);
    return out;
  };

  return {
    url,
    adminToken,
    dbPath,
    get child() {
      return running.child;
    },
    output: () => sink.join(''),
    fetch: hiveFetch,
    async mintToken(tenant, o = {}) {
      const res = await hiveFetch(`/v1/admin/tenants/${encodeURIComponent(tenant)}/token`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(o.shared ? { shared: true } : {}),
      });
      if (res.status !== 201)
        throw new Error(`mint token for ${tenant}: HTTP ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    kill,
    async restart(o = {}) {
      await kill(o.signal ?? 'SIGTERM');
      running = await launch(`127.0.0.1:${port}`, dbPath, adminToken, options, sink);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill('SIGTERM');
      await dispatcher?.close();
      if (ownDir) await rm(ownDir, { recursive: true, force: true });
    },
  };
}
