// The stdio bridge (`clawdie-host mcp`, issue 17): an MCP server on this process's stdin/stdout for
// clients that only launch local servers, forwarding to the hive's /mcp with the SDK's own client.
// A proxy, not a second implementation: the catalog → tools mapping, tasks, images and errors stay
// in one place (the hive's door), and the bridge is only the transport change. Each call forwards
// the client's progress token (the hive's state changes come back as progress) and its
// cancellation (the stdio client's `notifications/cancelled` aborts the upstream request, which
// the hive takes as the cancellation of the task). Upstream it speaks the 2026-07-28 revision
// (stateless: every request stands alone, so any hive replica may answer it) and names itself by a
// random `Clawdie-Mcp-Client` id, which makes its calls idempotent per request id at the hive.
// The token travels only in the Authorization header; it is never logged or put in an error.
import { randomBytes } from 'node:crypto';
import {
  Client,
  ProtocolError as ClientProtocolError,
  SdkHttpError,
  StreamableHTTPClientTransport,
} from '@modelcontextprotocol/client';
import { ProtocolError, ProtocolErrorCode, Server, type ServerContext } from '@modelcontextprotocol/server';
import { Agent, fetch as undiciFetch } from 'undici';
import pkg from '../../package.json' with { type: 'json' };
import { type HiveTrust, hiveConnector } from '../../src/hive/tls/connector.ts';
import { tlsRefusal } from '../../src/hive/tls/policy.ts';
import type { Logger } from '../../src/log.ts';
import { CLIENT_HEADER, MCP_PATH } from '../hive/mcp/names.ts';

/** How long one forwarded call may go without progress (the hive sends some every 15 s at least). */
const CALL_IDLE_TIMEOUT_MS = 120_000;

export interface BridgeOptions {
  hiveUrl: URL;
  token: string;
  log: Logger;
  /** How the bridge trusts the hive (src/hive/tls: the runtime's CA store or a CA file, pins). */
  trust?: HiveTrust | undefined;
}

/** fetch through the hive's trust rules (hiveConnector): a refused certificate never falls back. */
export function trustedFetch(trust: HiveTrust | undefined): typeof fetch {
  // No timeouts of undici's own: a call's progress (or its absence) is judged by the SDK client.
  const dispatcher = new Agent({ connect: hiveConnector(trust), headersTimeout: 0, bodyTimeout: 0 });
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(input as string, { ...(init as object), dispatcher })) as unknown as typeof fetch;
}

/** The `code`s along an error's cause chain, outermost first (the SDK wraps fetch's, which wraps the socket's). */
function codesOf(err: unknown): string[] {
  const codes: string[] = [];
  for (let e = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}

/** One line saying why the hive could not be used, never with the token or a response body. */
export function upstreamProblem(err: unknown): string {
  if (ClientProtocolError.isInstance(err)) return `the hive answered the call with error ${err.code}`;
  if (SdkHttpError.isInstance(err)) {
    if (err.status === 401) return 'the hive refused the token (401): it is unknown or was revoked';
    if (err.status === 403)
      return 'the hive refused this token at /mcp (403): use a tenant token, not the admin token';
    return `the hive's MCP door answered HTTP ${err.status}`;
  }
  const codes = codesOf(err);
  for (const code of codes) {
    const tls = tlsRefusal({ code });
    if (tls) return tls;
  }
  const cause = codes.at(-1);
  return `cannot reach the hive's MCP door${cause ? ` (${cause})` : ''}`;
}

/** Connects to the hive's /mcp; rejects with the SDK's error (see upstreamProblem). */
export async function connectUpstream(o: BridgeOptions): Promise<Client> {
  const client = new Client(
    { name: 'clawdie-host-mcp-bridge', version: pkg.version },
    { versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  const endpoint = new URL(`${o.hiveUrl.href.replace(/\/+$/, '')}${MCP_PATH}`);
  const transport = new StreamableHTTPClientTransport(endpoint, {
    requestInit: {
      headers: {
        authorization: `Bearer ${o.token}`,
        [CLIENT_HEADER]: `bridge-${randomBytes(16).toString('hex')}`,
      },
    },
    fetch: trustedFetch(o.trust),
  });
  await client.connect(transport);
  return client;
}

/** A call's upstream failure as the stdio client sees it: the hive's protocol error, or one line. */
function downstreamError(err: unknown, ctx: ServerContext): unknown {
  if (ctx.mcpReq.signal.aborted) return err; // cancelled by the client: the SDK answers nothing
  if (ClientProtocolError.isInstance(err)) return new ProtocolError(err.code, err.message);
  return new ProtocolError(ProtocolErrorCode.InternalError, upstreamProblem(err));
}

/** The stdio-side server: tools/list and tools/call forwarded to `upstream`. */
export function bridgeServer(upstream: Client, log: Logger): Server {
  const server = new Server(
    { name: 'clawdie-hive-bridge', version: pkg.version },
    { capabilities: { tools: {} }, instructions: upstream.getInstructions() },
  );
  server.setRequestHandler('tools/list', async (request, ctx) => {
    try {
      return await upstream.listTools(request.params, { signal: ctx.mcpReq.signal });
    } catch (err) {
      throw downstreamError(err, ctx);
    }
  });
  server.setRequestHandler('tools/call', async (request, ctx) => {
    const token = ctx.mcpReq._meta?.progressToken;
    const started = Date.now();
    try {
      const result = await upstream.callTool(request.params, {
        signal: ctx.mcpReq.signal,
        timeout: CALL_IDLE_TIMEOUT_MS,
        resetTimeoutOnProgress: true,
        // Always asked upstream (it keeps a long call alive); passed on when the client asked too.
        onprogress: (p) => {
          if (token === undefined) return;
          void ctx.mcpReq
            .notify({ method: 'notifications/progress', params: { ...p, progressToken: token } })
            .catch(() => undefined);
        },
      });
      log.info(
        { tool: request.params.name, ms: Date.now() - started, isError: result.isError === true },
        'call forwarded',
      );
      return result;
    } catch (err) {
      log.info({ tool: request.params.name, problem: upstreamProblem(err) }, 'call not answered');
      throw downstreamError(err, ctx);
    }
  });
  return server;
}
