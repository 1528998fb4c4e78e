// The MCP server one /mcp request is answered by (a fresh one per request: nothing is kept between
// requests, so any replica answers any of them). Built on the SDK's low-level Server because the
// tool set is the tenant's catalog at that moment, not a fixed registry:
//   tools/list → the catalog (tools.ts);
//   tools/call → a hive task of that capability (idempotency key per client and request id,
//                caller.ts), followed until it ends (follow.ts), answered as content.ts says.
// Progress notifications tell each state change when the client sent a progressToken. A client
// that cancels (2026-era: it closes the request; 2025-era: `notifications/cancelled`, door.ts)
// cancels the task; a request cut by the hive's own shutdown does not (the task goes on, and the
// client's retry with the same id follows it again).
import { ProtocolError, ProtocolErrorCode, Server, type ServerContext } from '@modelcontextprotocol/server';
import pkg from '../../../package.json' with { type: 'json' };
import type { Logger } from '../../../src/log.ts';
import type { Coordinator } from '../coordinator.ts';
import { HttpError } from '../http/http-error.ts';
import type { Principal } from '../parts.ts';
import { callKey } from './caller.ts';
import { type ToolResult, toolResult } from './content.ts';
import { followTask } from './follow.ts';
import { taskInputOf, toolOf } from './tools.ts';

export type TenantPrincipal = Extract<Principal, { kind: 'tenant' }>;

/** Who one /mcp request speaks for: a tenant, and the client instance when it names one. */
export interface McpCaller {
  principal: TenantPrincipal;
  client: string | null;
}

export interface McpServerDeps {
  hive: Coordinator;
  log: Logger;
  /** The hive is shutting down: requests cut now are not the client's cancellations. */
  closing: () => boolean;
}

/** Sends `notifications/progress` for this request when its client asked for them. */
function progressOf(ctx: ServerContext): (message: string) => Promise<void> {
  const token = ctx.mcpReq._meta?.progressToken;
  let progress = 0;
  return async (message) => {
    if (token === undefined) return;
    progress += 1;
    await ctx.mcpReq
      .notify({ method: 'notifications/progress', params: { progressToken: token, progress, message } })
      .catch(() => undefined);
  };
}

async function callTool(
  deps: McpServerDeps,
  caller: McpCaller,
  params: { name: string; arguments?: Record<string, unknown> | undefined },
  ctx: ServerContext,
): Promise<ToolResult> {
  const { hive, log } = deps;
  const p = caller.principal;
  const entry = (await hive.catalog(p)).capabilities.find((e) => e.name === params.name);
  // Another tenant's private capability is as unknown here as one nobody serves.
  if (!entry)
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, "unknown tool: not in this tenant's catalog");
  const key = caller.client === null ? undefined : callKey(caller.client, ctx.mcpReq.id);
  let taskId: string;
  try {
    ({ taskId } = await hive.submit(p, {
      capability: entry.name,
      input: taskInputOf(entry, params.arguments),
      ...(key ? { idempotencyKey: key } : {}),
    }));
  } catch (err) {
    if (err instanceof HttpError)
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `task refused: ${err.message}`);
    throw err;
  }
  const started = Date.now();
  const signal = ctx.mcpReq.signal;
  const cancel = (): void => {
    if (deps.closing()) return;
    log.info(
      { tenant: p.tenant, tool: entry.name, taskId },
      'MCP client cancelled the call; cancelling its task',
    );
    void hive.cancel(p, taskId).catch(() => undefined);
  };
  if (signal.aborted) cancel();
  else signal.addEventListener('abort', cancel, { once: true });
  const progress = progressOf(ctx);
  try {
    const view = await followTask(hive, p, taskId, {
      signal,
      onState: (state) => progress(`task ${taskId} ${state}`),
      onQuiet: (state, ms) => progress(`task ${taskId} still ${state} after ${Math.round(ms / 1000)} s`),
    });
    log.info(
      { tenant: p.tenant, tool: entry.name, taskId, state: view.state, ms: Date.now() - started },
      'MCP tool call answered',
    );
    return toolResult(view);
  } finally {
    // The SDK aborts the signal when the exchange closes, also after a normal answer.
    signal.removeEventListener('abort', cancel);
  }
}

export function mcpServer(deps: McpServerDeps, caller: McpCaller): Server {
  const server = new Server(
    { name: 'clawdie-hive', version: pkg.version },
    {
      capabilities: { tools: {} },
      instructions:
        "Each tool is a capability of this tenant's hive (its own agents' or a shared lane's); a call runs it as a hive task and answers with its output.",
    },
  );
  server.setRequestHandler('tools/list', async () => ({
    tools: (await deps.hive.catalog(caller.principal)).capabilities.map(toolOf),
  }));
  server.setRequestHandler('tools/call', (request, ctx) => callTool(deps, caller, request.params, ctx));
  return server;
}
