// Test support: a throwaway PostgreSQL cluster from Debian's packages (postgresql-15). initdb into
// a temp dir, listen on 127.0.0.1 on a free port, trust authentication (loopback only, no password
// to leak); stop() shuts it down and removes the dir. PostgreSQL refuses to run as root, so as root
// the dir is given to the `postgres` system user and every server command runs as that user
// (setpriv). startPostgres() returns a reason instead when the server cannot start, for a clear skip.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './free-port.ts';

const run = promisify(execFile);

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:PORT (no database). */
  readonly baseUrl: string;
  /** The server's log file (inside the temp dir; gone after stop()). */
  readonly logFile: string;
  /** The postmaster's pid (from postmaster.pid). */
  pid(): number;
  /** Creates a fresh database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Default false: fsync and synchronous_commit off (a throwaway cluster for tests). */
  durable?: boolean;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
}

/** The directory of initdb/pg_ctl: newest /usr/lib/postgresql/N/bin, else whatever PATH has. */
function binDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return null;
}

/** uid/gid of the `postgres` system user, from /etc/passwd. */
function postgresUser(): { uid: number; gid: number } | null {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) return null;
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

export async function startPostgres(
  options: StartPostgresOptions = {},
): Promise<PostgresServer | { skip: string }> {
  const bin = binDir();
  if (!bin) return { skip: 'PostgreSQL is not installed (apt-get install postgresql)' };
  const root = process.getuid?.() === 0;
  const owner = root ? postgresUser() : null;
  if (root && !owner)
    return { skip: 'running as root and there is no postgres system user to run the server' };
  const dir = await mkdtemp(join(tmpdir(), 'clawdie-pg-'));
  const data = join(dir, 'data');
  // As root: run as the postgres user (the server refuses root), with that user's own environment.
  const as = (cmd: string, args: string[]) =>
    owner
      ? run(
          'setpriv',
          [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups', join(bin, cmd), ...args],
          {
            cwd: dir,
          },
        )
      : run(join(bin, cmd), args, { cwd: dir });
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    max_connections: '200',
    ...(options.durable ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
    ...options.settings,
  };
  try {
    if (owner) await chown(dir, owner.uid, owner.gid);
    await as('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    let port = 0;
    // A free port can be taken between the probe and the server's bind: try a few.
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      const opts = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
      try {
        await as('pg_ctl', [
          '-D',
          data,
          '-l',
          join(dir, 'server.log'),
          '-w',
          '-t',
          '30',
          '-o',
          opts,
          'start',
        ]);
        break;
      } catch (err) {
        if (attempt >= 2) throw err;
      }
    }
    const baseUrl = `postgres://postgres@127.0.0.1:${port}`;
    let stopped = false;
    let n = 0;
    return {
      baseUrl,
      logFile: join(dir, 'server.log'),
      pid: () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
      async createDatabase(name = `hive_${process.pid}_${++n}`) {
        const c = new pg.Client({ connectionString: `${baseUrl}/postgres` });
        await c.connect();
        try {
          await c.query(`CREATE DATABASE ${name}`);
        } finally {
          await c.end();
        }
        return `${baseUrl}/${name}`;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    let log = '';
    try {
      log = readFileSync(join(dir, 'server.log'), 'utf8').slice(-500);
    } catch {}
    await as('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { skip: `PostgreSQL could not start: ${msg}${log ? ` (${log.trim().split('\n').at(-1)})` : ''}` };
  }
}
