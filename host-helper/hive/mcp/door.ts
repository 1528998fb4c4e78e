// `/mcp` on the hive's listener (issue 17): the customer's door. Streamable HTTP as the MCP
// specification defines it, served by the official SDK (createMcpHandler: the 2026-07-28 revision
// per request, and 2025-era clients statelessly from the same server), one fresh server per
// request (server.ts), so any replica answers any request. In front of the SDK, this file:
//  - validates Host and Origin against the hive's own names (DNS rebinding): loopback names, the
//    address the connection arrived on, and `--public-url`'s host; anything else → 403;
//  - authenticates the tenant token (bearer): none, unknown or revoked → 401 with
//    `WWW-Authenticate: Bearer resource_metadata="…"` (MCP authorization, RFC 9728); the admin
//    token → 403 (a valid credential that this door never accepts: a tenant door, not an admin one;
//    a 401 would invite the client to authenticate again with the same result);
//  - reads the body under the hive's 1 MiB cap (413);
//  - hands a 2025-era client a session id at `initialize` (caller.ts) and turns its
//    `notifications/cancelled` into a cancel of the task its call started, found by idempotency key;
//  - serves the protected-resource metadata document at /.well-known/oauth-protected-resource/mcp.
// Errors before the SDK are the hive's §5 error bodies; the SDK answers protocol errors itself.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  type AuthInfo,
  createMcpHandler,
  validateHostHeader,
  validateOriginHeader,
} from '@modelcontextprotocol/server';
import * as z from 'zod';
import type { Logger } from '../../../src/log.ts';
import { MAX_BODY_BYTES } from '../../../src/protocol/index.ts';
import type { Coordinator, Principal } from '../coordinator.ts';
import { forbidden, HttpError, notFound } from '../http/http-error.ts';
import { readJson, sendJson } from '../http/json-io.ts';
import type { Door } from '../http/server.ts';
import { bearerToken } from '../tokens.ts';
import { callKey, clientOf, newSessionId } from './caller.ts';
import { MCP_PATH, METADATA_PATH, METADATA_ROOT, SESSION_HEADER } from './names.ts';
import { type McpCaller, mcpServer, type TenantPrincipal } from './server.ts';

export interface McpDoorOptions {
  hive: Coordinator;
  log: Logger;
  /** The URL clients use to reach this hive (`--public-url`): its host is allowed, and it names the resource. */
  publicUrl?: string | undefined;
}

export interface McpDoors {
  doors: Door[];
  /** Ends in-flight MCP exchanges (hive shutdown) without cancelling their tasks. */
  close(): Promise<void>;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** The hostnames a request may name in Host and Origin: loopback, the address it reached, the public URL's. */
export function allowedHostnames(localAddress: string | undefined, publicUrl: URL | null): string[] {
  const names = [...LOOPBACK_NAMES];
  if (localAddress) {
    const v4 = localAddress.replace(/^::ffff:/, '');
    names.push(v4.includes(':') ? `[${v4}]` : v4);
  }
  if (publicUrl) names.push(publicUrl.hostname);
  return names;
}

/** A 2025-era `notifications/cancelled` (the only message this door reads before the SDK). */
const CancelledNotification = z.object({
  method: z.literal('notifications/cancelled'),
  params: z.object({ requestId: z.union([z.string().max(256), z.number()]) }),
});

export function mcpDoors(o: McpDoorOptions): McpDoors {
  const { hive, log } = o;
  const publicUrl = o.publicUrl ? new URL(o.publicUrl) : null;
  let closing = false;
  /** Responses still open (a long tools/call streams until its task ends), cut on close(). */
  const open = new Set<ServerResponse>();
  const deps = { hive, log, closing: () => closing };
  const handler = createMcpHandler(
    ({ authInfo }) => {
      const caller = authInfo?.extra?.caller as McpCaller | undefined;
      // The door authenticates every request before the SDK sees it; nothing else builds servers.
      if (!caller) throw new Error('MCP request without an authenticated caller');
      return mcpServer(deps, caller);
    },
    {
      legacy: 'stateless',
      maxRequestBodySize: MAX_BODY_BYTES,
      onerror: (err) => log.debug({ err: err.message }, 'MCP request refused by the SDK'),
    },
  );
  const serve = toNodeHandler(handler, { maxRequestBodySize: MAX_BODY_BYTES });

  /** The public base URL of this hive for this request (Host was validated already). */
  const baseOf = (req: IncomingMessage): string => {
    if (publicUrl) return publicUrl.origin + publicUrl.pathname.replace(/\/+$/, '');
    const scheme = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
    return `${scheme}://${req.headers.host}`;
  };

  function checkHostAndOrigin(req: IncomingMessage): void {
    const allowed = allowedHostnames(req.socket.localAddress, publicUrl);
    if (!validateHostHeader(req.headers.host, allowed).ok)
      throw forbidden('Host is not a name of this hive', 'host');
    if (!validateOriginHeader(req.headers.origin, allowed).ok)
      throw forbidden('Origin is not allowed', 'origin');
  }

  async function tenantOf(req: IncomingMessage, res: ServerResponse): Promise<TenantPrincipal> {
    const token = bearerToken(req.headers.authorization);
    let p: Principal;
    try {
      p = await hive.authenticate(token);
    } catch (err) {
      if (err instanceof HttpError && err.code === 'unauthorized') {
        const error = token === null ? '' : ', error="invalid_token"';
        res.setHeader(
          'www-authenticate',
          `Bearer resource_metadata="${baseOf(req)}${METADATA_PATH}"${error}`,
        );
      }
      throw err;
    }
    if (p.kind !== 'tenant') throw forbidden('the admin token is not accepted at /mcp: use a tenant token');
    return p;
  }

  /** Cancels the tasks that 2025-era `notifications/cancelled` messages in `body` name. */
  async function cancelNamed(body: unknown, caller: McpCaller): Promise<void> {
    if (caller.client === null) return;
    for (const message of Array.isArray(body) ? body : [body]) {
      const n = CancelledNotification.safeParse(message);
      if (!n.success) continue;
      const taskId = await hive.taskByKey(
        caller.principal.tenant,
        callKey(caller.client, n.data.params.requestId),
      );
      if (taskId === null) continue;
      log.info(
        { tenant: caller.principal.tenant, taskId },
        'MCP client cancelled a call; cancelling its task',
      );
      await hive.cancel(caller.principal, taskId).catch(() => undefined);
    }
  }

  const mcp: Door = {
    path: MCP_PATH,
    async handle(req, res, path) {
      if (path !== MCP_PATH) throw notFound('no such route');
      checkHostAndOrigin(req);
      const principal = await tenantOf(req, res);
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      const caller: McpCaller = { principal, client: clientOf(req.headers) };
      const first = Array.isArray(body) ? undefined : (body as { method?: unknown } | undefined);
      if (first?.method === 'initialize' && req.headers[SESSION_HEADER] === undefined) {
        res.setHeader(SESSION_HEADER, newSessionId());
      }
      await cancelNamed(body, caller);
      const auth: AuthInfo = { token: '', clientId: principal.tenant, scopes: [], extra: { caller } };
      (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;
      open.add(res);
      res.once('close', () => open.delete(res));
      await serve(req, res, body);
    },
  };

  const metadata: Door = {
    path: METADATA_ROOT,
    async handle(req, res, path) {
      if (path !== METADATA_PATH) throw notFound('no such route');
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        throw new HttpError('method_not_allowed', 'method not allowed here');
      }
      checkHostAndOrigin(req);
      // RFC 9728. No authorization_servers: tenant tokens are minted by the host (clawdie-host
      // mcp-token), not by an OAuth server; a client configures the token as a bearer header.
      const doc = {
        resource: `${baseOf(req)}${MCP_PATH}`,
        bearer_methods_supported: ['header'],
        resource_name: 'clawdie hive (tenant token)',
      };
      if (req.method === 'HEAD') {
        res.writeHead(200, {
          'content-type': 'application/json; charset=utf-8',
          'cache-control': 'no-store',
        });
        res.end();
      } else sendJson(res, 200, doc);
    },
  };

  return {
    doors: [mcp, metadata],
    async close() {
      closing = true;
      // Cut the open responses first: a stream the SDK ended cleanly without an answer leaves a
      // client waiting for its own timeout, a cut connection tells it at once (it may retry
      // elsewhere, and follow the same task by its idempotency key).
      for (const res of open) res.destroy();
      await handler.close();
    },
  };
}
