// `clawdie-host hive serve --listen HOST:PORT --db PATH [--admin-token-file F]` (DESIGN §5): runs
// the reference coordinator until SIGTERM/SIGINT. The admin token comes from the file (refused if
// group/other may read it) or CLAWDIE_HIVE_ADMIN_TOKEN, never argv. With --tls-cert/--tls-key it
// serves HTTPS and reloads the pair on SIGHUP (tls/); /metrics and /ui are the operator's view
// (operator-view.ts), /mcp the tenants' MCP door (mcp/door.ts). Stdout: the base URL alone as the
// first line, then pino JSON logs. Usage errors: one line on stderr, exit 2.
import { once } from 'node:events';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createLogger } from '../../src/log.ts';
import {
  DEFAULT_HEARTBEAT_SECONDS,
  DEFAULT_LEASE_SECONDS,
  DEFAULT_POLL_SECONDS,
  formatProblem,
  MAX_POLL_WAIT_SECONDS,
} from '../../src/protocol/index.ts';
import type { Command, CommandIO } from '../command.ts';
import { EXIT, HostError, usageError } from '../exit-codes.ts';
import { readAdminToken } from './admin-token.ts';
import { Coordinator } from './coordinator.ts';
import { createHiveServer } from './http/server.ts';
import { operatorView } from './operator-view.ts';
import { describeDb, isPostgresUrl, pgUrlProblem } from './pg/url.ts';
import type { HiveStore } from './store/store.ts';
import { loadTlsPair } from './tls/pair.ts';
import { reloadOnSighup } from './tls/reload.ts';

const USAGE =
  'usage: clawdie-host hive serve --listen HOST:PORT --db PATH|postgres://… [--admin-token-file F] ' +
  '[--heartbeat-seconds N] [--poll-seconds N] [--lease-seconds N] [--spawn-policy-file F] ' +
  '[--tls-cert F --tls-key F] [--metrics on|per-tenant|off] [--metrics-listen HOST:PORT] [--public-url URL]';

const Seconds = z.coerce.number().positive().max(3600);

const HostPort = z
  .string({ error: 'is required' })
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be HOST:PORT')
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be 0-65535');

const ServeFlags = z
  .object({
    listen: HostPort,
    db: z.string({ error: 'is required' }).min(1),
    'admin-token-file': z.string().min(1).optional(),
    'heartbeat-seconds': Seconds.default(DEFAULT_HEARTBEAT_SECONDS),
    'poll-seconds': z.coerce.number().min(0).max(MAX_POLL_WAIT_SECONDS).default(DEFAULT_POLL_SECONDS),
    'lease-seconds': Seconds.default(DEFAULT_LEASE_SECONDS),
    synchronous: z.enum(['normal', 'full']).default('normal'),
    'spawn-policy-file': z.string().min(1).optional(),
    'tls-cert': z.string().min(1).optional(),
    'tls-key': z.string().min(1).optional(),
    metrics: z.enum(['on', 'per-tenant', 'off']).default('on'),
    'metrics-listen': HostPort.optional(),
    /** How clients reach this hive (the MCP door allows its host and names its resource by it). */
    'public-url': z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .refine((u) => !new URL(u).username && !new URL(u).password, 'must not carry credentials')
      .optional(),
  })
  .refine((f) => (f['tls-cert'] === undefined) === (f['tls-key'] === undefined), {
    message: 'and --tls-key go together',
    path: ['tls-cert'],
  });

function parseFlags(argv: string[]): z.infer<typeof ServeFlags> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        listen: { type: 'string' },
        db: { type: 'string' },
        'admin-token-file': { type: 'string' },
        'heartbeat-seconds': { type: 'string' },
        'poll-seconds': { type: 'string' },
        'lease-seconds': { type: 'string' },
        synchronous: { type: 'string' },
        'spawn-policy-file': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        metrics: { type: 'string' },
        'metrics-listen': { type: 'string' },
        'public-url': { type: 'string' },
      },
    }));
  } catch (err) {
    // parseArgs messages may quote what was typed (a misplaced secret?): say only what kind of error.
    const code = (err as { code?: string }).code;
    const msg =
      code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? 'unknown option'
        : code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
          ? 'unexpected argument'
          : 'an option is missing its value';
    throw usageError(`${msg}; ${USAGE}`, err);
  }
  const r = ServeFlags.safeParse(values);
  if (!r.success) throw usageError(`--${formatProblem(r.error, 'flags')}; ${USAGE}`);
  return r.data;
}

/** Loads the policy before anything is opened: a bad policy file is a usage error (exit 2). */
async function loadPolicy(file: string | undefined) {
  const { loadSpawnPolicy, SpawnPolicyError } = await import('./spawn/policy.ts');
  try {
    return await loadSpawnPolicy(file);
  } catch (err) {
    if (err instanceof SpawnPolicyError) throw new HostError(err.message, EXIT.usage, { cause: err });
    throw err;
  }
}

async function startSpawn(
  policy: Awaited<ReturnType<typeof loadPolicy>>,
  db: string,
  hive: Coordinator,
  log: ReturnType<typeof createLogger>,
  env: NodeJS.ProcessEnv,
) {
  const [{ SpawnLineage }, { SpawnService }, { runExecutor }] = await Promise.all([
    import('./spawn/lineage.ts'),
    import('./spawn/service.ts'),
    import('./spawn/executor.ts'),
  ]);
  const lineage = new SpawnLineage(db);
  const service = new SpawnService({
    policy,
    lineage,
    hive,
    log,
    execute: (spec, stdin) => runExecutor(spec, stdin, env),
  });
  return { service, close: () => lineage.close() };
}

/** `--db postgres://…` opens the PostgreSQL store (several replicas may share it), else SQLite. */
async function openStore(flags: z.infer<typeof ServeFlags>, log: ReturnType<typeof createLogger>) {
  if (isPostgresUrl(flags.db)) {
    const { PgHiveStore } = await import('./pg/store.ts');
    try {
      return await PgHiveStore.open(flags.db, { log });
    } catch (err) {
      const why = err instanceof Error ? err.message.replace(/\s+/g, ' ') : String(err);
      throw new HostError(`cannot open ${describeDb(flags.db)}: ${why}`, EXIT.failure, { cause: err });
    }
  }
  // Loaded only now: importing node:sqlite prints an experimental warning, which a usage error must not.
  const { SqliteHiveStore } = await import('./sqlite/store.ts');
  return new SqliteHiveStore(flags.db, { synchronous: flags.synchronous });
}

function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(listen.slice(i + 1)) };
}

export const run: Command = async (argv: string[], io: CommandIO): Promise<number> => {
  const [sub, ...rest] = argv;
  if (sub !== 'serve') throw usageError(USAGE);
  const flags = parseFlags(rest);
  const adminToken = await readAdminToken(flags['admin-token-file'], io.env);
  const policy = await loadPolicy(flags['spawn-policy-file']);
  const tlsFiles = flags['tls-cert'] ? { cert: flags['tls-cert'], key: flags['tls-key']! } : null;
  const tls = tlsFiles ? await loadTlsPair(tlsFiles.cert, tlsFiles.key) : null;
  const pg = isPostgresUrl(flags.db);
  const urlProblem = pg ? pgUrlProblem(flags.db) : null;
  if (urlProblem) throw usageError(`--db ${urlProblem}; ${USAGE}`);
  if (pg && policy.enabled) {
    throw usageError(
      '--spawn-policy-file needs a SQLite --db (the spawn lineage is not kept in PostgreSQL yet)',
    );
  }
  if (flags['metrics-listen'] && flags.metrics === 'off')
    throw usageError(`--metrics-listen needs metrics on; ${USAGE}`);
  const log = createLogger({ name: 'hive' });
  const view = operatorView(flags.metrics, log);
  const store: HiveStore = view.wrapStore(await openStore(flags, log));
  const hive = new Coordinator(
    store,
    {
      heartbeatSeconds: flags['heartbeat-seconds'],
      pollSeconds: flags['poll-seconds'],
      leaseSeconds: flags['lease-seconds'],
    },
    adminToken,
    log,
    view.events,
  );
  // The host's spawn policy (DESIGN §8): disabled without a file; the lineage table lives in the
  // hive's db so that revoking a parent reaches its children even after the policy is switched off.
  // With PostgreSQL the policy is off (checked above): nothing is spawned, the lineage stays empty.
  const spawn = await startSpawn(policy, pg ? ':memory:' : flags.db, hive, log, io.env);
  const operator = view.serverExtras(hive, store);
  // /mcp, the tenants' MCP door (issue 17), on the same listener.
  const { mcpDoors } = await import('./mcp/door.ts');
  const mcp = mcpDoors({ hive, log, publicUrl: flags['public-url'] });
  const server = createHiveServer(hive, log, {
    spawn: spawn.service,
    ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
    ...operator,
    doors: [...(operator.doors ?? []), ...mcp.doors],
  });
  const scrape = flags['metrics-listen'] ? view.metricsListener() : null;
  try {
    const { host, port } = splitListen(flags.listen);
    server.listen(port, host);
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
    if (scrape) {
      const m = splitListen(flags['metrics-listen']!);
      scrape.listen(m.port, m.host);
      await Promise.race([once(scrape, 'listening'), once(scrape, 'error').then(([e]) => Promise.reject(e))]);
    }
  } catch (err) {
    server.close();
    scrape?.close();
    hive.stop();
    spawn.close();
    await store.close();
    throw new HostError(`cannot start: ${err instanceof Error ? err.message : String(err)}`, EXIT.failure, {
      cause: err,
    });
  }
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  io.stdout.write(`${tls ? 'https' : 'http'}://${shown}:${addr.port}\n`);
  // The coordinator starts only after the URL is out: its startup sweep may log (leases that ended
  // while the hive was down), and the first stdout line must be the URL alone (DESIGN §5). Requests
  // arriving meanwhile are safe: every lease and TTL decision compares deadlines with the clock.
  try {
    await hive.start();
  } catch (err) {
    server.close();
    server.closeAllConnections();
    hive.stop();
    spawn.close();
    await store.close();
    throw new HostError(`cannot start: ${err instanceof Error ? err.message : String(err)}`, EXIT.failure, {
      cause: err,
    });
  }
  // Logs only after the URL: the first stdout line is the URL alone (DESIGN §5).
  log.info({ port: addr.port, db: describeDb(flags.db) }, 'hive listening');
  log.info({ spawnPolicy: policy.enabled ? 'enabled' : 'disabled' }, 'spawn policy loaded');
  if (tls) log.info({ tls: tls.info }, 'TLS enabled; SIGHUP reloads the certificate');
  if (scrape) {
    const m = scrape.address() as AddressInfo;
    log.info({ metricsListen: `${m.address}:${m.port}` }, 'metrics listening without a token');
  }
  const stopReload = tlsFiles ? reloadOnSighup(server as HttpsServer, tlsFiles, log) : () => {};

  if (!io.signal.aborted) await once(io.signal, 'abort');
  log.info('shutting down');
  // In-flight MCP calls end first (their tasks go on; clients may retry on another replica).
  await mcp.close();
  stopReload();
  scrape?.close();
  scrape?.closeAllConnections();
  const closed = once(server, 'close');
  server.close();
  hive.stop(); // answers open long-polls with 204
  // Connections become idle once their last answer is written; close them as they do, and cut
  // whatever is still busy after 5 s.
  const sweep = setInterval(() => server.closeIdleConnections(), 25);
  const forced = setTimeout(() => server.closeAllConnections(), 5000);
  await closed;
  clearInterval(sweep);
  clearTimeout(forced);
  spawn.close();
  await store.close();
  log.info('stopped');
  return EXIT.ok;
};
