// Conformance: authentication and every bad-input class answer the §5 error shape with the right
// status, naming the field, never a stack trace.
import { describe, expect, it } from 'vitest';
import { call, expectError, newAgent, newTenant, registration, type Target, uniq } from '../client.ts';

export function defineErrorSuite(target: () => Target): void {
  describe('authentication and bad input', () => {
    it('401 without a token, with a malformed one, and with an unknown one', async () => {
      const t = target();
      for (const token of [null, 'x', 'not-a-real-token-but-long-enough-000000000000']) {
        expectError(await call(t, 'GET', '/v1/admin/agents', { token }), 401);
        expectError(
          await call(t, 'POST', '/v1/tasks', { token, json: { capability: 'echo', input: 1 } }),
          401,
        );
        expectError(await call(t, 'POST', `/v1/agents/${uniq('a')}/heartbeat`, { token, json: {} }), 401);
      }
    });

    it('403 for a tenant token on admin endpoints', async () => {
      const t = target();
      const a = await newTenant(t);
      expectError(await call(t, 'GET', '/v1/admin/agents', { token: a.token }), 403);
      expectError(
        await call(t, 'POST', `/v1/admin/tenants/${a.name}/token`, { token: a.token, json: {} }),
        403,
      );
    });

    it('404 for an unknown route, 405 for a known route with another method', async () => {
      const t = target();
      expectError(await call(t, 'GET', '/v1/nope', { token: t.adminToken }), 404);
      expectError(await call(t, 'GET', '/v2/tasks', { token: t.adminToken }), 404);
      expectError(await call(t, 'PUT', '/v1/tasks', { token: t.adminToken, json: {} }), 405);
      expectError(await call(t, 'GET', '/v1/agents', { token: t.adminToken }), 405);
    });

    it('400 for malformed JSON', async () => {
      const t = target();
      const a = await newTenant(t);
      expectError(await call(t, 'POST', '/v1/tasks', { token: a.token, raw: '{"capability": "echo",' }), 400);
      expectError(await call(t, 'POST', '/v1/agents', { token: a.token, raw: 'not json' }), 400);
    });

    it('400 naming the field for wrong types, without echoing the value', async () => {
      const t = target();
      const a = await newTenant(t);
      const reg = registration(a.name, uniq('agent'), ['echo']);
      let e = expectError(
        await call(t, 'POST', '/v1/agents', { token: a.token, json: { ...reg, capabilities: 'SECRET-ish' } }),
        400,
        'capabilities',
      );
      expect(e.message).not.toContain('SECRET-ish');
      expectError(
        await call(t, 'POST', '/v1/agents', { token: a.token, json: { ...reg, identityHash: 5 } }),
        400,
        'identityHash',
      );
      e = expectError(
        await call(t, 'POST', '/v1/tasks', { token: a.token, json: { capability: 7, input: 1 } }),
        400,
        'capability',
      );
      expectError(
        await call(t, 'POST', '/v1/tasks', {
          token: a.token,
          json: { capability: 'echo', input: 1, ttlSeconds: 'soon' },
        }),
        400,
        'ttlSeconds',
      );
      const agentId = await newAgent(t, a, ['echo']);
      expectError(
        await call(t, 'GET', `/v1/agents/${agentId}/tasks?wait=61`, { token: a.token }),
        400,
        'wait',
      );
      expectError(
        await call(t, 'GET', `/v1/agents/${agentId}/tasks?wait=abc`, { token: a.token }),
        400,
        'wait',
      );
      expectError(
        await call(t, 'POST', `/v1/admin/tenants/${a.name}/token`, {
          token: t.adminToken,
          json: { shared: 'yes' },
        }),
        400,
        'shared',
      );
      expectError(
        await call(t, 'POST', '/v1/spawn', {
          token: a.token,
          json: { parent: agentId, capabilities: 'all' },
        }),
        400,
        'capabilities',
      );
    });

    it('413 for a body over 1 MiB', async () => {
      const t = target();
      const a = await newTenant(t);
      const big = JSON.stringify({ capability: 'echo', input: 'x'.repeat(1024 * 1024 + 10) });
      expectError(await call(t, 'POST', '/v1/tasks', { token: a.token, raw: big }), 413);
      // The coordinator keeps serving after refusing it.
      expect((await call(t, 'GET', '/v1/admin/agents', { token: t.adminToken })).status).toBe(200);
    });

    it('404 for an unknown agent or task; 403 for another tenant’s agent', async () => {
      const t = target();
      const [a, b] = [await newTenant(t), await newTenant(t)];
      expectError(
        await call(t, 'POST', `/v1/agents/${uniq('ghost')}/heartbeat`, { token: a.token, json: {} }),
        404,
      );
      expectError(await call(t, 'GET', `/v1/agents/${uniq('ghost')}/tasks?wait=0`, { token: a.token }), 404);
      expectError(await call(t, 'DELETE', `/v1/agents/${uniq('ghost')}`, { token: a.token }), 404);
      expectError(
        await call(t, 'GET', '/v1/tasks/00000000-0000-4000-8000-000000000000', { token: a.token }),
        404,
      );
      expectError(
        await call(t, 'POST', '/v1/tasks/00000000-0000-4000-8000-000000000000/result', {
          token: a.token,
          json: { status: 'ok', output: 1 },
        }),
        404,
      );
      const agentB = await newAgent(t, b, ['echo']);
      expectError(await call(t, 'POST', `/v1/agents/${agentB}/heartbeat`, { token: a.token, json: {} }), 403);
      expectError(await call(t, 'GET', `/v1/agents/${agentB}/tasks?wait=0`, { token: a.token }), 403);
      expectError(await call(t, 'DELETE', `/v1/agents/${agentB}`, { token: a.token }), 403);
    });

    it('spawn is refused (403) unless a host policy allows it; its body is validated first', async () => {
      const t = target();
      const a = await newTenant(t);
      const parent = await newAgent(t, a, ['spawn']);
      expectError(await call(t, 'POST', '/v1/spawn', { token: a.token, json: {} }), 400, 'parent');
      const r = await call(t, 'POST', '/v1/spawn', {
        token: a.token,
        json: { parent, capabilities: ['echo'] },
      });
      if (r.status >= 400) expectError(r, 403);
      else expect([200, 201]).toContain(r.status);
    });
  });
}
