// The host's client for the hive admin API (DESIGN §5): mint and revoke a tenant's token, list
// agents and a tenant's spawned descendants. undici with timeouts; bodies validated by the protocol's zod schemas. The admin token
// goes only into the Authorization header; errors carry the status and the hive's error code,
// never a token.
import { Agent, request } from 'undici';
import { z } from 'zod';
import { ClawdieError } from '../../src/errors.ts';
import { type HiveTrust, hiveConnector } from '../../src/hive/tls/connector.ts';
import { tlsRefusal } from '../../src/hive/tls/policy.ts';
import type { AdminAgentsResponse as AgentsList } from '../../src/protocol/index.ts';
import {
  AdminAgentsResponse,
  AdminDescendantsResponse,
  MintTokenResponse,
  readErrorBody,
} from '../../src/protocol/index.ts';

const UiLinkResponse = z.object({ code: z.string().min(20).max(100), expiresInSeconds: z.number() });

export class HiveAdminError extends ClawdieError {
  readonly status: number | undefined;

  constructor(
    message: string,
    options: { status?: number; cause?: unknown; kind?: 'retryable' | 'fatal' } = {},
  ) {
    super(message, options);
    this.status = options.status;
  }
}

export interface HiveAdmin {
  mintToken(tenant: string, shared: boolean): Promise<string>;
  /** Revokes; a tenant that has no token (404) counts as revoked. */
  revokeToken(tenant: string): Promise<void>;
  listAgents(): Promise<AgentsList>;
  /** Tenants spawned from `tenant` (directly or deeper), parents before children. */
  descendants(tenant: string): Promise<string[]>;
  /** A one-time code for the hive's /ui live view (a link `clawdie-host ui` prints). */
  uiCode(): Promise<{ code: string; expiresInSeconds: number }>;
  close(): Promise<void>;
}

export function hiveAdmin(
  baseUrl: string,
  adminToken: string,
  timeoutMs = 10_000,
  trust?: HiveTrust,
): HiveAdmin {
  const dispatcher = new Agent({
    // The agent's trust rules (CA store or file, pins): a refused certificate never falls back.
    connect: hiveConnector(trust, timeoutMs),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const base = baseUrl.replace(/\/+$/, '');

  async function call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) {
    try {
      const res = await request(`${base}${path}`, {
        method,
        dispatcher,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.body.text();
      return { status: res.statusCode, text };
    } catch (err) {
      const refusal = tlsRefusal(err);
      if (refusal) throw new HiveAdminError(`hive refused: ${refusal}`, { cause: err, kind: 'retryable' });
      const code = (err as { code?: string }).code ?? 'network error';
      throw new HiveAdminError(`hive unreachable (${code})`, { cause: err, kind: 'retryable' });
    }
  }

  function fail(what: string, status: number, text: string): never {
    const code = readErrorBody(text)?.code;
    throw new HiveAdminError(`hive ${what}: HTTP ${status}${code ? ` ${code}` : ''}`, {
      status,
      kind: status === 429 || status >= 500 ? 'retryable' : 'fatal',
    });
  }

  function json<S extends z.ZodType>(schema: S, what: string, text: string): z.infer<S> {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new HiveAdminError(`hive ${what}: response is not JSON`, { cause: err });
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new HiveAdminError(`hive ${what}: response does not match the protocol`);
    return parsed.data;
  }

  const tenantPath = (tenant: string): string => `/v1/admin/tenants/${encodeURIComponent(tenant)}/token`;

  return {
    async mintToken(tenant, shared) {
      const { status, text } = await call('POST', tenantPath(tenant), shared ? { shared: true } : {});
      if (status !== 200 && status !== 201) fail('mint token', status, text);
      return json(MintTokenResponse, 'mint token', text).token;
    },
    async revokeToken(tenant) {
      const { status, text } = await call('DELETE', tenantPath(tenant));
      if (status === 404) return;
      if (status < 200 || status > 299) fail('revoke token', status, text);
    },
    async listAgents() {
      const { status, text } = await call('GET', '/v1/admin/agents');
      if (status !== 200) fail('list agents', status, text);
      return json(AdminAgentsResponse, 'list agents', text);
    },
    async descendants(tenant) {
      const { status, text } = await call(
        'GET',
        `/v1/admin/tenants/${encodeURIComponent(tenant)}/descendants`,
      );
      if (status !== 200) fail('list descendants', status, text);
      return json(AdminDescendantsResponse, 'list descendants', text).tenants;
    },
    async uiCode() {
      const { status, text } = await call('POST', '/ui/api/link', {});
      if (status !== 201) fail('ui link', status, text);
      return json(UiLinkResponse, 'ui link', text);
    },
    close: () => dispatcher.close(),
  };
}
