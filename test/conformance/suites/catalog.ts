// Conformance: the capability catalog (§5, `GET /v1/capabilities`) — a tenant sees what it can route
// to right now (its own live agents' capabilities and shared lanes'), never another tenant's private
// capability, not even its name; descriptions come from its own agents before a lane's, then the
// newest registration; agents that send only names are listed without one; the admin sees all,
// with tenants. Capability names are unique per run, so a shared coordinator's other entries are
// left out of every comparison.
import { describe, expect, it } from 'vitest';
import { type CatalogEntry, CatalogResponse } from '../../../src/protocol/index.ts';
import {
  call,
  expectError,
  newAgent,
  newTenant,
  registration,
  type Target,
  type Tenant,
  uniq,
} from '../client.ts';

const SCHEMA = {
  type: 'object',
  properties: { message: { type: 'string' } },
  required: ['message'],
} as const;

async function catalog(t: Target, token: string): Promise<{ entries: CatalogEntry[]; text: string }> {
  const r = await call(t, 'GET', '/v1/capabilities', { token });
  expect(r.status, r.text).toBe(200);
  return { entries: CatalogResponse.parse(r.body).capabilities, text: r.text };
}

/** The entries named in `names`, by name. */
const pick = (entries: CatalogEntry[], names: string[]): Record<string, CatalogEntry> =>
  Object.fromEntries(entries.filter((e) => names.includes(e.name)).map((e) => [e.name, e]));

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

export function defineCatalogSuite(target: () => Target): void {
  describe('capability catalog', () => {
    it('a tenant sees its own and the lanes’ capabilities, never another tenant’s private one', async () => {
      const t = target();
      const [a, b, lane] = [await newTenant(t), await newTenant(t), await newTenant(t, { shared: true })];
      const [mine, theirs, both, lanes] = [uniq('mine'), uniq('theirs'), uniq('both'), uniq('lanes')];
      const secret = `private words of ${b.name}`;
      await newAgent(t, a, [mine, both], [{ name: mine, description: 'A serves this', inputSchema: SCHEMA }]);
      await tick();
      await newAgent(
        t,
        b,
        [theirs, both],
        [
          { name: theirs, description: secret },
          { name: both, description: secret },
        ],
      );
      await newAgent(t, lane, [lanes], [{ name: lanes, description: 'a lane renders' }]);

      const seenByA = await catalog(t, a.token);
      expect(pick(seenByA.entries, [mine, theirs, both, lanes])).toEqual({
        [mine]: {
          name: mine,
          description: 'A serves this',
          inputSchema: SCHEMA,
          servedBy: ['own'],
          liveAgents: 1,
        },
        // B's agent serves `both` too, but only for B: not counted, not described for A.
        [both]: { name: both, servedBy: ['own'], liveAgents: 1 },
        [lanes]: { name: lanes, description: 'a lane renders', servedBy: ['lane'], liveAgents: 1 },
      });
      expect(seenByA.text).not.toContain(theirs);
      expect(seenByA.text).not.toContain(secret);
      expect(seenByA.text).not.toContain(b.name);
      expect(seenByA.entries.every((e) => e.tenants === undefined)).toBe(true);

      const seenByB = await catalog(t, b.token);
      expect(Object.keys(pick(seenByB.entries, [mine, theirs, both, lanes])).sort()).toEqual(
        [theirs, both, lanes].sort(),
      );
      expect(seenByB.text).not.toContain(mine);
      expect(seenByB.text).not.toContain('A serves this');

      // The lane itself sees its own capability as its own, and nothing of A's or B's.
      const seenByLane = await catalog(t, lane.token);
      expect(pick(seenByLane.entries, [mine, theirs, both, lanes])).toEqual({
        [lanes]: { name: lanes, description: 'a lane renders', servedBy: ['own'], liveAgents: 1 },
      });
    });

    it('the own tenant’s description before a lane’s, then the newest registration', async () => {
      const t = target();
      const [a, b, lane] = [await newTenant(t), await newTenant(t), await newTenant(t, { shared: true })];
      const cap = uniq('render');
      await newAgent(t, a, [cap], [{ name: cap, description: 'older own' }]);
      await tick();
      await newAgent(t, a, [cap], [{ name: cap, description: 'newer own' }]);
      await tick();
      await newAgent(t, lane, [cap], [{ name: cap, description: 'newest, a lane’s', inputSchema: SCHEMA }]);
      expect(pick((await catalog(t, a.token)).entries, [cap])[cap]).toEqual({
        name: cap,
        description: 'newer own',
        servedBy: ['own', 'lane'],
        liveAgents: 3,
      });
      expect(pick((await catalog(t, b.token)).entries, [cap])[cap]).toEqual({
        name: cap,
        description: 'newest, a lane’s',
        inputSchema: SCHEMA,
        servedBy: ['lane'],
        liveAgents: 1,
      });
    });

    it('agents sending only names are listed without description; gone agents leave it', async () => {
      const t = target();
      const a = await newTenant(t);
      const cap = uniq('plain');
      const one = await newAgent(t, a, [cap]);
      const two = await newAgent(t, a, [cap]);
      expect(pick((await catalog(t, a.token)).entries, [cap])[cap]).toEqual({
        name: cap,
        servedBy: ['own'],
        liveAgents: 2,
      });
      await call(t, 'DELETE', `/v1/agents/${one}`, { token: a.token });
      expect(pick((await catalog(t, a.token)).entries, [cap])[cap]?.liveAgents).toBe(1);
      await call(t, 'DELETE', `/v1/agents/${two}`, { token: a.token });
      expect(pick((await catalog(t, a.token)).entries, [cap])[cap]).toBeUndefined();
    });

    it('re-registering replaces the descriptors (names only drops the description)', async () => {
      const t = target();
      const a = await newTenant(t);
      const cap = uniq('cap');
      const agentId = await newAgent(t, a, [cap], [{ name: cap, description: 'first words' }]);
      expect(pick((await catalog(t, a.token)).entries, [cap])[cap]?.description).toBe('first words');
      const again = await call(t, 'POST', '/v1/agents', {
        token: a.token,
        json: registration(a.name, agentId, [cap]),
      });
      expect(again.status).toBe(200);
      expect(pick((await catalog(t, a.token)).entries, [cap])[cap]).toEqual({
        name: cap,
        servedBy: ['own'],
        liveAgents: 1,
      });
    });

    it('the admin sees every live agent’s capability, with the tenants serving it', async () => {
      const t = target();
      const [a, b, lane] = [await newTenant(t), await newTenant(t), await newTenant(t, { shared: true })];
      const [x, y] = [uniq('x'), uniq('y')];
      await newAgent(t, a, [x], [{ name: x, description: 'x of A' }]);
      await newAgent(t, b, [x, y]);
      await newAgent(t, lane, [y], [{ name: y, description: 'y of the lane' }]);
      const seen = pick((await catalog(t, t.adminToken)).entries, [x, y]);
      expect(seen[x]).toEqual({
        name: x,
        description: 'x of A',
        servedBy: ['own'],
        liveAgents: 2,
        tenants: [a.name, b.name].sort(),
      });
      expect(seen[y]).toEqual({
        name: y,
        description: 'y of the lane',
        servedBy: ['own', 'lane'],
        liveAgents: 2,
        tenants: [b.name, lane.name].sort(),
      });
    });

    it('needs a token; a descriptor must name a registered capability', async () => {
      const t = target();
      expectError(await call(t, 'GET', '/v1/capabilities'), 401);
      const a: Tenant = await newTenant(t);
      const bad = await call(t, 'POST', '/v1/agents', {
        token: a.token,
        json: registration(a.name, uniq('agent'), ['echo'], [{ name: 'not-registered' }]),
      });
      expectError(bad, 400, 'descriptors.0.name');
    });
  });
}
