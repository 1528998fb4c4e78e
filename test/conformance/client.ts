// A tiny HTTP client for conformance tests: raw requests against any hive coordinator, plus helpers
// that create uniquely named tenants, agents and capabilities so runs never collide with each other
// or with whatever else the coordinator under test is serving.
import { randomBytes } from 'node:crypto';
import { Agent, fetch as undiciFetch } from 'undici';
import { expect } from 'vitest';
import { type CapabilityDescriptor, ErrorBody, RegisterResponse } from '../../src/protocol/index.ts';

export interface Target {
  url: string;
  adminToken: string;
  /** PEM of the CA an https:// hive's certificate chains to, when not a public one. */
  ca?: string;
  /**
   * The same coordinator setup serving leases of a few seconds (`--lease-seconds 2`), for the suites
   * that watch a lease run out; absent (those cases skip) against a coordinator given by the env.
   */
  shortLease?: Target;
}

/** One dispatcher per CA, trusting only it (the runtime's store otherwise). */
const dispatchers = new Map<string, Agent>();
const dispatcherFor = (ca: string): Agent => {
  let d = dispatchers.get(ca);
  if (!d) {
    d = new Agent({ connect: { ca } });
    dispatchers.set(ca, d);
  }
  return d;
};

export interface Reply {
  status: number;
  text: string;
  body: unknown;
  headers: Headers;
}

export interface CallOptions {
  token?: string | null;
  json?: unknown;
  /** Sent as is (for malformed JSON and oversized bodies). */
  raw?: string | Uint8Array;
}

export async function call(t: Target, method: string, path: string, o: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  let body: string | Uint8Array | undefined;
  if (o.raw !== undefined) body = o.raw;
  else if (o.json !== undefined) body = JSON.stringify(o.json);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = (
    t.ca
      ? await undiciFetch(`${t.url}${path}`, { method, headers, body, dispatcher: dispatcherFor(t.ca) })
      : await fetch(`${t.url}${path}`, { method, headers, body })
  ) as Response;
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, text, body: parsed, headers: res.headers };
}

/** A fresh name valid as tenant, agent id and capability. */
export const uniq = (prefix: string): string => `${prefix}-${randomBytes(5).toString('hex')}`;

export const IDENTITY_HASH = 'a'.repeat(64);

/** Asserts the §5 error shape (and no stack trace); returns the error object. */
export function expectError(r: Reply, status: number, field?: string): { code: string; message: string } {
  expect(r.status, r.text).toBe(status);
  const parsed = ErrorBody.safeParse(r.body);
  expect(parsed.success, `error body: ${r.text}`).toBe(true);
  const e = parsed.data!.error;
  expect(e.message).not.toMatch(/\n\s+at /);
  expect(r.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
  if (field !== undefined) expect(e.field).toBe(field);
  return e;
}

export interface Tenant {
  name: string;
  token: string;
}

/** What the run created, so afterAll can deregister agents and revoke tenant tokens. */
const created = { agents: [] as { agentId: string; token: string }[], tenants: [] as string[] };

export async function cleanup(t: Target): Promise<void> {
  for (const a of created.agents.splice(0)) {
    const r = await call(t, 'DELETE', `/v1/agents/${a.agentId}`, { token: a.token });
    if (r.status === 401) await call(t, 'DELETE', `/v1/agents/${a.agentId}`, { token: t.adminToken });
  }
  for (const name of created.tenants.splice(0)) {
    await call(t, 'DELETE', `/v1/admin/tenants/${name}/token`, { token: t.adminToken });
  }
}

export async function newTenant(t: Target, o: { shared?: boolean } = {}): Promise<Tenant> {
  const name = uniq(o.shared ? 'lane' : 'tenant');
  const r = await call(t, 'POST', `/v1/admin/tenants/${name}/token`, {
    token: t.adminToken,
    json: o.shared ? { shared: true } : {},
  });
  expect([200, 201], r.text).toContain(r.status);
  const token = (r.body as { token?: unknown }).token;
  expect(typeof token).toBe('string');
  created.tenants.push(name);
  return { name, token: token as string };
}

export function registration(
  tenant: string,
  agentId: string,
  capabilities: string[],
  descriptors?: CapabilityDescriptor[],
): Record<string, unknown> {
  return {
    agentId,
    tenant,
    capabilities,
    ...(descriptors ? { descriptors } : {}),
    identityHash: IDENTITY_HASH,
    version: '0.1.0',
    os: 'conformance',
  };
}

export async function newAgent(
  t: Target,
  tenant: Tenant,
  capabilities: string[],
  descriptors?: CapabilityDescriptor[],
): Promise<string> {
  const agentId = uniq('agent');
  const r = await call(t, 'POST', '/v1/agents', {
    token: tenant.token,
    json: registration(tenant.name, agentId, capabilities, descriptors),
  });
  expect([200, 201], r.text).toContain(r.status);
  expect(RegisterResponse.parse(r.body).agentId).toBe(agentId);
  created.agents.push({ agentId, token: tenant.token });
  return agentId;
}

export async function submit(t: Target, token: string, body: Record<string, unknown>): Promise<string> {
  const r = await call(t, 'POST', '/v1/tasks', { token, json: body });
  expect([200, 201], r.text).toContain(r.status);
  return (r.body as { taskId: string }).taskId;
}

export const poll = (t: Target, token: string, agentId: string, wait: number): Promise<Reply> =>
  call(t, 'GET', `/v1/agents/${agentId}/tasks?wait=${wait}`, { token });

/** Posts an ok result with `output` for `taskId` as `agentId`. */
export const okResult = (
  t: Target,
  token: string,
  taskId: string,
  agentId: string,
  output: unknown,
): Promise<Reply> =>
  call(t, 'POST', `/v1/tasks/${taskId}/result`, { token, json: { status: 'ok', output, agentId } });
