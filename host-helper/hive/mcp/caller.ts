// Who an MCP request comes from, beyond its tenant: which client instance, so that a tools/call is
// idempotent per client and a 2025-era client's `notifications/cancelled` finds the task of the
// call it names — on any replica, since nothing is stored but the task's idempotency key.
//
// The hive serves /mcp statelessly, and a JSON-RPC request id alone names nothing: every client
// counts its ids from 0 or 1, so two clients of one tenant (or one client restarted) send the same
// ids. A client instance is therefore known by
//   - the `Mcp-Session-Id` the door hands a 2025-era client in its `initialize` answer (a random
//     value it keeps and sends on every later request; no replica stores it: it only scopes keys),
//   - or a `Clawdie-Mcp-Client` header a client sends on its own (the stdio bridge sends a random
//     one per process; 2026-era clients have no session to carry one).
// The key of a call is then `mcp-` + SHA-256(client, request id) in hex (hex: never mistaken for a
// token by the leak scan). A request with neither header gets no key: never deduplicated, never
// confused with another client's call. Keys are per tenant in the store, so a client can only ever
// meet its own tenant's tasks. Pure: headers and ids in, strings out.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { CLIENT_HEADER, SESSION_HEADER } from './names.ts';

/** Visible ASCII (the spec's rule for session ids), bounded so a key input stays small. */
const CLIENT_RE = /^[\x21-\x7e]{8,128}$/;

/** The client instance a request speaks for, or null when it names none (or an unusable one). */
export function clientOf(headers: IncomingHttpHeaders): string | null {
  for (const name of [SESSION_HEADER, CLIENT_HEADER]) {
    const v = headers[name];
    if (typeof v === 'string' && CLIENT_RE.test(v)) return `${name}:${v}`;
  }
  return null;
}

/** A fresh session id for a 2025-era client's `initialize` answer (hex: not token-shaped). */
export const newSessionId = (): string => `mcp-${randomBytes(16).toString('hex')}`;

/** The idempotency key of a tools/call (protocol limit: 128 characters; this is 68). */
export function callKey(client: string, requestId: string | number): string {
  const digest = createHash('sha256')
    .update(`${client}\n${JSON.stringify(requestId)}`)
    .digest('hex');
  return `mcp-${digest}`;
}
