// The hive's HTTP shell (plain node:http): matches /v1 routes, authenticates the bearer token,
// validates bodies and path parameters with the protocol schemas, and calls the coordinator.
// Unknown path → 404, known path with another method → 405, every error in the §5 shape. Over TLS
// when given a certificate; other doors (metrics, the live view, the MCP door) share the listener.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { z } from 'zod';
import type { Logger } from '../../../src/log.ts';
import {
  AgentId,
  CancelRequest,
  HeartbeatRequest,
  MintTokenRequest,
  PollQuery,
  RegisterRequest,
  ReleaseRequest,
  SpawnRequest,
  SubmitTaskRequest,
  TaskId,
  TaskResult,
  TenantName,
} from '../../../src/protocol/index.ts';
import type { Coordinator, Principal } from '../coordinator.ts';
import { bearerToken } from '../tokens.ts';
import { installClientErrorHandler } from './client-error.ts';
import { badRequest, forbidden, HttpError } from './http-error.ts';
import { parseWith, readJson, sendEmpty, sendError, sendJson } from './json-io.ts';

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  p: Principal;
  params: string[];
  /** The raw query string (without '?'); only the long-poll reads it. */
  query: string;
}

/** A handler's answer: JSON with a status, 204, or null when it wrote the response itself. */
type Answer = { status: number; body: unknown } | 204 | null;
type Handler = (c: Ctx) => Promise<Answer>;

interface Route {
  pattern: string[];
  methods: Record<string, Handler>;
  admin?: boolean;
}

/** What a path parameter is called after the segment before it (agents/:agentId, tenants/:tenant). */
const PARAM_NAMES: Record<string, string> = { agents: ':agentId', tasks: ':taskId', tenants: ':tenant' };

/** A route's template for metrics labels: /v1/agents/:agentId/tasks (never a raw id). */
function templateOf(pattern: string[]): string {
  const named = pattern.map((s, i) => (s === ':' ? (PARAM_NAMES[pattern[i - 1] ?? ''] ?? ':param') : s));
  return `/${named.join('/')}`;
}

/** Another door on the hive's listener: it answers every request to `path` or below it. */
export interface Door {
  path: string;
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
}

/** Told of every answered request: its route template (or door path), method, status and start. */
export type RequestObserver = (route: string, method: string, status: number, startedMs: number) => void;

const body = async <S extends z.ZodType>(c: Ctx, schema: S): Promise<z.infer<S>> =>
  parseWith(schema, (await readJson(c.req)) ?? {});
const param = <S extends z.ZodType>(schema: S, value: string, field: string): z.infer<S> =>
  parseWith(schema, value, field);
const ok = (b: unknown, status = 200): Answer => ({ status, body: b });

/** Optional parts wired in by `hive serve`: the host's spawn policy (DESIGN §8). */
export interface HiveServerExtras {
  spawn?: {
    request(p: Principal, body: SpawnRequest): Promise<unknown>;
    /** Called after a tenant's token was revoked: revokes its spawned descendants too. */
    cascade(tenant: string): Promise<unknown>;
    /** Every tenant spawned from `tenant`, parents first (the host's `revoke` removes their .env). */
    descendantsOf(tenant: string): Promise<string[]>;
    /** A spawned child registers only the capabilities its parent was allowed to give it. */
    limitRegistration(reg: RegisterRequest): RegisterRequest;
  };
  /** HTTPS with this PEM pair (tls/pair.ts); `hive serve` reloads it on SIGHUP. */
  tls?: { cert: string; key: string };
  doors?: Door[];
  observe?: RequestObserver;
}

export type HiveListener = Server | HttpsServer;

function routes(hive: Coordinator, extras: HiveServerExtras = {}): Route[] {
  const agentId = (c: Ctx): string => param(AgentId, c.params[0]!, 'agentId');
  const taskId = (c: Ctx): string => param(TaskId, c.params[0]!, 'taskId');
  return [
    {
      pattern: ['v1', 'agents'],
      methods: {
        POST: async (c) => {
          const reg = await body(c, RegisterRequest);
          return ok(await hive.register(c.p, extras.spawn ? extras.spawn.limitRegistration(reg) : reg));
        },
      },
    },
    {
      pattern: ['v1', 'agents', ':'],
      methods: {
        DELETE: async (c) => {
          await hive.deregister(c.p, agentId(c));
          return 204;
        },
      },
    },
    {
      pattern: ['v1', 'agents', ':', 'heartbeat'],
      methods: {
        POST: async (c) => {
          const id = agentId(c);
          const hb = await body(c, HeartbeatRequest);
          return ok(await hive.heartbeat(c.p, id, hb));
        },
      },
    },
    { pattern: ['v1', 'agents', ':', 'tasks'], methods: { GET: (c) => poll(hive, c, agentId(c)) } },
    { pattern: ['v1', 'capabilities'], methods: { GET: async (c) => ok(await hive.catalog(c.p)) } },
    {
      pattern: ['v1', 'tasks'],
      methods: {
        POST: async (c) => {
          const out = await hive.submit(c.p, await body(c, SubmitTaskRequest));
          return ok({ taskId: out.taskId }, out.created ? 201 : 200);
        },
      },
    },
    { pattern: ['v1', 'tasks', ':'], methods: { GET: async (c) => ok(await hive.getTask(c.p, taskId(c))) } },
    {
      pattern: ['v1', 'tasks', ':', 'result'],
      methods: { POST: async (c) => ok(await hive.result(c.p, taskId(c), await body(c, TaskResult))) },
    },
    {
      pattern: ['v1', 'tasks', ':', 'release'],
      methods: { POST: async (c) => ok(await hive.release(c.p, taskId(c), await body(c, ReleaseRequest))) },
    },
    {
      pattern: ['v1', 'tasks', ':', 'cancel'],
      methods: {
        POST: async (c) => {
          const id = taskId(c);
          await body(c, CancelRequest);
          return ok(await hive.cancel(c.p, id));
        },
      },
    },
    {
      pattern: ['v1', 'spawn'],
      methods: {
        POST: async (c) => {
          const req = await body(c, SpawnRequest);
          if (!extras.spawn) throw forbidden('spawn policy disabled');
          return ok(await extras.spawn.request(c.p, req), 201);
        },
      },
    },
    {
      pattern: ['v1', 'admin', 'tenants', ':', 'token'],
      admin: true,
      methods: {
        POST: async (c) => {
          const tenant = param(TenantName, c.params[0]!, 'tenant');
          const req = await body(c, MintTokenRequest);
          return ok({ token: await hive.mintTenantToken(tenant, req.shared === true) }, 201);
        },
        DELETE: async (c) => {
          const tenant = param(TenantName, c.params[0]!, 'tenant');
          await hive.revokeTenantToken(tenant);
          await extras.spawn?.cascade(tenant);
          return 204;
        },
      },
    },
    {
      pattern: ['v1', 'admin', 'tenants', ':', 'descendants'],
      admin: true,
      methods: {
        GET: async (c) => {
          const tenant = param(TenantName, c.params[0]!, 'tenant');
          return ok({ tenants: extras.spawn ? await extras.spawn.descendantsOf(tenant) : [] });
        },
      },
    },
    {
      pattern: ['v1', 'admin', 'agents'],
      admin: true,
      methods: { GET: async () => ok({ agents: await hive.listAgents() }) },
    },
    {
      pattern: ['v1', 'admin', 'agents', ':', 'drain'],
      admin: true,
      methods: { POST: async (c) => ok(await hive.drainAgent(agentId(c))) },
    },
  ];
}

/** The long-poll: answers itself so it can notice a client that left and hand back an unsent lease. */
async function poll(hive: Coordinator, c: Ctx, id: string): Promise<Answer> {
  const q = parseWith(PollQuery, Object.fromEntries(new URLSearchParams(c.query)), 'wait');
  const wait = q.wait ?? hive.timings.pollSeconds;
  const gone = new AbortController();
  const onClose = (): void => {
    if (!c.res.writableFinished) gone.abort();
  };
  c.res.on('close', onClose);
  try {
    const task = await hive.poll(c.p, id, wait, gone.signal);
    if (!task) {
      if (!gone.signal.aborted) sendEmpty(c.res, 204);
      return null;
    }
    if (gone.signal.aborted || c.res.destroyed) {
      await hive.undelivered(id, task.taskId);
      return null;
    }
    c.res.off('close', onClose);
    c.res.on('close', () => {
      if (!c.res.writableFinished) void hive.undelivered(id, task.taskId);
    });
    sendJson(c.res, 200, task);
    return null;
  } finally {
    c.res.off('close', onClose);
  }
}

function match(table: Route[], segments: string[]): { route: Route; params: string[] } | null {
  for (const route of table) {
    if (route.pattern.length !== segments.length) continue;
    const params: string[] = [];
    let hit = true;
    for (let i = 0; i < segments.length && hit; i++) {
      const want = route.pattern[i]!;
      if (want === ':') params.push(segments[i]!);
      else hit = want === segments[i];
    }
    if (hit) return { route, params };
  }
  return null;
}

function splitPath(path: string): string[] | null {
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return null;
  }
}

const KNOWN_METHODS = new Set(['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS']);

export function createHiveServer(
  hive: Coordinator,
  log: Logger,
  extras: HiveServerExtras = {},
): HiveListener {
  const table = routes(hive, extras);
  const templates = new Map(table.map((r) => [r, templateOf(r.pattern)]));
  const doors = extras.doors ?? [];
  const observe = extras.observe;
  // requireHostHeader is off so that Node does not answer a missing Host with its bare 400 (no
  // error body): handle() refuses it itself, in the §5 shape.
  const opts = { keepAliveTimeout: 65_000, requestTimeout: 120_000, requireHostHeader: false };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const started = observe ? performance.now() : 0;
    const seen = { route: 'unmatched' };
    const answered = handle(req, res, seen).catch((err: unknown) => {
      if (err instanceof HttpError) return sendError(req, res, err);
      log.error({ err, method: req.method, path: req.url?.split('?')[0] }, 'request failed');
      sendError(req, res, new HttpError('internal', 'internal error'));
    });
    if (observe) {
      const method = KNOWN_METHODS.has(req.method ?? '') ? req.method! : 'other';
      void answered.then(() => observe(seen.route, method, res.statusCode, started));
    }
  };
  const server = extras.tls
    ? createHttpsServer({ ...opts, cert: extras.tls.cert, key: extras.tls.key }, onRequest)
    : createServer(opts, onRequest);

  async function handle(req: IncomingMessage, res: ServerResponse, seen: { route: string }): Promise<void> {
    // HTTP/1.1 requires Host (RFC 9112 §3.2); the hive does not route by it.
    if (req.headers.host === undefined && req.httpVersion === '1.1')
      throw badRequest('missing Host header', 'host');
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (!path.startsWith('/v1/')) {
      const door = doors.find((d) => path === d.path || path.startsWith(`${d.path}/`));
      if (door) {
        seen.route = door.path;
        return door.handle(req, res, path);
      }
    }
    const segments = splitPath(path);
    const found = segments ? match(table, segments) : null;
    if (!found) throw new HttpError('not_found', 'no such route');
    seen.route = templates.get(found.route)!;
    const handler = found.route.methods[req.method ?? ''];
    if (!handler) {
      res.setHeader('allow', Object.keys(found.route.methods).join(', '));
      throw new HttpError('method_not_allowed', `method ${String(req.method).slice(0, 10)} not allowed here`);
    }
    const p = await hive.authenticate(bearerToken(req.headers.authorization));
    if (found.route.admin && p.kind !== 'admin') throw forbidden('admin token required');
    const answer = await handler({
      req,
      res,
      p,
      params: found.params,
      query: q === -1 ? '' : url.slice(q + 1),
    });
    if (answer === null) return;
    if (answer === 204) sendEmpty(res, 204);
    else sendJson(res, answer.status, answer.body);
  }

  // A request the HTTP parser cannot frame still gets the §5 error shape (not Node's bare status).
  installClientErrorHandler(server, log);
  return server;
}
