// Conformance: agent lifecycle (register, heartbeat, long-poll, deregister), admin listing, and
// tenant tokens (minting replaces, revoking locks the tenant out).
import { describe, expect, it } from 'vitest';
import { AdminAgentsResponse, HeartbeatResponse, RegisterResponse } from '../../../src/protocol/index.ts';
import { call, expectError, newAgent, newTenant, poll, registration, type Target, uniq } from '../client.ts';

export function defineAgentSuite(target: () => Target): void {
  describe('agents and tokens', () => {
    it('registers idempotently per agentId; re-registering updates capabilities', async () => {
      const t = target();
      const a = await newTenant(t);
      const agentId = await newAgent(t, a, ['echo']);
      const again = await call(t, 'POST', '/v1/agents', {
        token: a.token,
        json: registration(a.name, agentId, ['echo', 'chat']),
      });
      expect([200, 201]).toContain(again.status);
      const reg = RegisterResponse.parse(again.body);
      expect(reg.heartbeatSeconds).toBeGreaterThan(0);
      expect(reg.pollSeconds).toBeGreaterThanOrEqual(0);
      const list = AdminAgentsResponse.parse(
        (await call(t, 'GET', '/v1/admin/agents', { token: t.adminToken })).body,
      );
      const mine = list.agents.filter((x) => x.agentId === agentId);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ tenant: a.name, state: 'live' });
      expect([...mine[0]!.capabilities].sort()).toEqual(['chat', 'echo']);
      expect(Number.isNaN(Date.parse(mine[0]!.lastHeartbeat))).toBe(false);
    });

    it('refuses a registration for another tenant than the token’s, and a taken agentId', async () => {
      const t = target();
      const [a, b] = [await newTenant(t), await newTenant(t)];
      const r = await call(t, 'POST', '/v1/agents', {
        token: a.token,
        json: registration(b.name, uniq('agent'), []),
      });
      expectError(r, 403, 'tenant');
      const agentId = await newAgent(t, a, ['echo']);
      expectError(
        await call(t, 'POST', '/v1/agents', { token: b.token, json: registration(b.name, agentId, []) }),
        403,
      );
    });

    it('heartbeats answer drain=false for a live agent; deregistered agents are unknown', async () => {
      const t = target();
      const a = await newTenant(t);
      const agentId = await newAgent(t, a, ['echo']);
      const hb = await call(t, 'POST', `/v1/agents/${agentId}/heartbeat`, { token: a.token, json: {} });
      expect(hb.status).toBe(200);
      expect(HeartbeatResponse.parse(hb.body)).toEqual({ drain: false });
      // An empty heartbeat body is fine too.
      expect((await call(t, 'POST', `/v1/agents/${agentId}/heartbeat`, { token: a.token })).status).toBe(200);
      const del = await call(t, 'DELETE', `/v1/agents/${agentId}`, { token: a.token });
      expect([200, 204]).toContain(del.status);
      expectError(
        await call(t, 'POST', `/v1/agents/${agentId}/heartbeat`, { token: a.token, json: {} }),
        404,
      );
    });

    it('a long-poll with nothing to do answers 204 after the wait', async () => {
      const t = target();
      const a = await newTenant(t);
      const agentId = await newAgent(t, a, [uniq('cap')]);
      const r = await poll(t, a.token, agentId, 1);
      expect(r.status).toBe(204);
      expect(r.text).toBe('');
    });

    it('minting a new token replaces the old one; revoking locks the tenant out', async () => {
      const t = target();
      const a = await newTenant(t);
      const agentId = await newAgent(t, a, ['echo']);
      const minted = await call(t, 'POST', `/v1/admin/tenants/${a.name}/token`, {
        token: t.adminToken,
        json: {},
      });
      expect([200, 201]).toContain(minted.status);
      const fresh = (minted.body as { token: string }).token;
      expect(fresh).not.toBe(a.token);
      expect(fresh.length).toBeGreaterThanOrEqual(32);
      expectError(
        await call(t, 'POST', `/v1/agents/${agentId}/heartbeat`, { token: a.token, json: {} }),
        401,
      );
      expect(
        (await call(t, 'POST', `/v1/agents/${agentId}/heartbeat`, { token: fresh, json: {} })).status,
      ).toBe(200);
      const del = await call(t, 'DELETE', `/v1/admin/tenants/${a.name}/token`, { token: t.adminToken });
      expect([200, 204]).toContain(del.status);
      expectError(await call(t, 'POST', `/v1/agents/${agentId}/heartbeat`, { token: fresh, json: {} }), 401);
      expectError(
        await call(t, 'POST', '/v1/tasks', { token: fresh, json: { capability: 'echo', input: 1 } }),
        401,
      );
    });
  });
}
