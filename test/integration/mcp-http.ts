// What only the HTTP door has (issue 17), against a running MCP world (mcp-world.ts): 401 with the
// WWW-Authenticate challenge and the protected-resource metadata, revoked and admin tokens, Host and
// Origin checks (DNS rebinding), the 1 MiB body cap, idempotency per client instance (two clients'
// request id 1 never meet; one client's repeated request id is the same task), and a capability
// described by its agent offered with its schema.
import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { TASK_META_KEY } from '../../host-helper/hive/mcp/names.ts';
import { bearerJson } from '../support/bearer-json.ts';
import { httpClient, type McpWorld } from './mcp-world.ts';

export function defineHttpSuite(world: () => McpWorld): void {
  const url = (): string => world().mcpUrls[0]!;

  /** A raw HTTP request (fetch may not set Host), answered with status, headers and body text. */
  function raw(
    method: string,
    path: string,
    headers: Record<string, string>,
    body = '',
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
    const u = new URL(url());
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          method,
          path,
          headers: { 'content-type': 'application/json', ...headers },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            text += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  const ACCEPT = { accept: 'application/json, text/event-stream' };

  /** The JSON-RPC answer of a raw POST, whether it came as JSON or as one SSE event. */
  const rpcAnswer = (text: string): { result?: { _meta?: Record<string, string> } } =>
    JSON.parse(text.startsWith('{') ? text : /^data: (.*)$/m.exec(text)![1]!);

  describe('the door itself', () => {
    it('401 without a token: a WWW-Authenticate challenge naming the protected-resource metadata', async () => {
      await expect(httpClient(url(), null, 'legacy')).rejects.toThrow(/401|nauthori/);
      const r = await raw('POST', '/mcp', ACCEPT, '{}');
      expect(r.status).toBe(401);
      const metadataUrl = `${url()}/.well-known/oauth-protected-resource/mcp`;
      expect(r.headers['www-authenticate']).toBe(`Bearer resource_metadata="${metadataUrl}"`);
      const doc = await fetch(metadataUrl);
      expect(doc.status).toBe(200);
      expect(await doc.json()).toEqual({
        resource: `${url()}/mcp`,
        bearer_methods_supported: ['header'],
        resource_name: 'clawdie hive (tenant token)',
      });
    });

    it('401 for a revoked token (invalid_token), 403 for the admin token', async () => {
      const token = await bearerJson<{ token: string }>(
        url(),
        'POST',
        '/v1/admin/tenants/gone-co/token',
        world().adminToken,
        {},
      );
      expect(
        (await bearerJson(url(), 'DELETE', '/v1/admin/tenants/gone-co/token', world().adminToken)).status,
      ).toBe(204);
      await expect(httpClient(url(), token.json.token, 'modern')).rejects.toThrow(/401|nauthori/);
      const r = await raw('POST', '/mcp', { ...ACCEPT, authorization: `Bearer ${token.json.token}` }, '{}');
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(
        /^Bearer resource_metadata="[^"]+", error="invalid_token"$/,
      );

      await expect(httpClient(url(), world().adminToken, 'legacy')).rejects.toThrow(/403|orbidden/);
      const admin = await raw(
        'POST',
        '/mcp',
        { ...ACCEPT, authorization: `Bearer ${world().adminToken}` },
        '{}',
      );
      expect(admin.status).toBe(403);
      expect(JSON.parse(admin.text).error.message).toMatch(/admin token is not accepted/);
    });

    it('refuses a foreign Host or Origin (DNS rebinding) with 403; accepts its own names', async () => {
      const port = new URL(url()).port;
      expect((await raw('POST', '/mcp', { ...ACCEPT, host: `evil.example:${port}` }, '{}')).status).toBe(403);
      expect((await raw('POST', '/mcp', { ...ACCEPT, origin: 'http://evil.example' }, '{}')).status).toBe(
        403,
      );
      // Own names pass the check and meet authentication (401 without a token).
      expect((await raw('POST', '/mcp', { ...ACCEPT, host: `localhost:${port}` }, '{}')).status).toBe(401);
      expect(
        (await raw('POST', '/mcp', { ...ACCEPT, origin: `http://127.0.0.1:${port}` }, '{}')).status,
      ).toBe(401);
    });

    it('413 for a body over 1 MiB', async () => {
      const big = JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { x: 'y'.repeat(1024 * 1024) },
      });
      // fetch, which reads an answer that comes while the body is still being sent (the hive
      // answers a declared oversize at once and drops the rest).
      const r = await fetch(`${url()}/mcp`, {
        method: 'POST',
        headers: {
          ...ACCEPT,
          'content-type': 'application/json',
          authorization: `Bearer ${world().tokens.acme}`,
        },
        body: big,
      });
      expect(r.status).toBe(413);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    });

    it("two clients' first calls never meet; one client's repeated request id is the same task", async () => {
      const [a, b] = [
        await httpClient(url(), world().tokens.acme, 'legacy'),
        await httpClient(url(), world().tokens.acme, 'legacy'),
      ];
      const [ra, rb] = await Promise.all([
        a.callTool({ name: 'echo', arguments: { who: 'a' } }),
        b.callTool({ name: 'echo', arguments: { who: 'b' } }),
      ]);
      expect([ra.structuredContent, rb.structuredContent]).toEqual([{ who: 'a' }, { who: 'b' }]);
      expect(ra._meta![TASK_META_KEY]).not.toBe(rb._meta![TASK_META_KEY]);
      await Promise.all([a.close(), b.close()]);

      const send = async (session: string) => {
        const body = {
          jsonrpc: '2.0',
          id: 7,
          method: 'tools/call',
          params: { name: 'echo', arguments: { n: 7 } },
        };
        const headers = {
          ...ACCEPT,
          authorization: `Bearer ${world().tokens.acme}`,
          'mcp-session-id': session,
          'mcp-protocol-version': '2025-11-25',
        };
        const r = await raw('POST', '/mcp', headers, JSON.stringify(body));
        expect(r.status, r.text).toBe(200);
        return rpcAnswer(r.text).result!._meta![TASK_META_KEY];
      };
      const first = await send('mcp-test-session-one');
      expect(await send('mcp-test-session-one')).toBe(first);
      expect(await send('mcp-test-session-two')).not.toBe(first);
    });

    it('a capability described by its agent is offered with its schema; a non-object input is wrapped', async () => {
      const w = world();
      const reg = {
        agentId: 'acme-described',
        tenant: 'acme',
        capabilities: ['shout', 'count'],
        descriptors: [
          { name: 'shout', description: 'Shouts a word.', inputSchema: { type: 'string', maxLength: 20 } },
          { name: 'count', inputSchema: { type: 'object', properties: { n: { type: 'integer' } } } },
        ],
        identityHash: 'a'.repeat(64),
        version: '1',
        os: 'test',
      };
      expect((await bearerJson(w.agentUrl, 'POST', '/v1/agents', w.tokens.acme, reg)).status).toBe(200);
      const client = await httpClient(url(), w.tokens.acme, 'modern');
      const tools = Object.fromEntries((await client.listTools()).tools.map((t) => [t.name, t]));
      expect(tools.shout).toMatchObject({
        description: 'Shouts a word.',
        inputSchema: {
          type: 'object',
          properties: { input: { type: 'string', maxLength: 20 } },
          required: ['input'],
        },
      });
      expect(tools.count!.inputSchema).toEqual({ type: 'object', properties: { n: { type: 'integer' } } });
      // Served by this hand-driven agent: the task's input is the unwrapped string.
      const call = client.callTool({ name: 'shout', arguments: { input: 'hey' } });
      const lease = await bearerJson<{ taskId: string; input: unknown }>(
        w.agentUrl,
        'GET',
        '/v1/agents/acme-described/tasks?wait=10',
        w.tokens.acme,
      );
      expect(lease.json.input).toBe('hey');
      await bearerJson(w.agentUrl, 'POST', `/v1/tasks/${lease.json.taskId}/result`, w.tokens.acme, {
        status: 'ok',
        output: 'HEY',
        agentId: 'acme-described',
      });
      const r = await call;
      expect(r.content).toEqual([{ type: 'text', text: 'HEY' }]);
      expect(r.structuredContent).toBeUndefined();
      await bearerJson(w.agentUrl, 'DELETE', '/v1/agents/acme-described', w.tokens.acme);
      await client.close();
    });
  });
}
