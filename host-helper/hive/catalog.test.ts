// The capability catalog as a pure function: isolation (a tenant never sees another tenant's private
// capability, name or description), counts and served-by, the choice among several descriptions,
// and the admin's view — as properties over arbitrary agents, plus the cases spelled out.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CatalogEntry } from '../../src/protocol/index.ts';
import { buildCatalog, type Candidate, compareCandidates } from './catalog.ts';
import type { CatalogAgent } from './store/store.ts';

const TENANTS = ['acme', 'beta', 'gamma', 'lane-a', 'lane-b'] as const;
const CAPS = ['echo', 'chat', 'image-render', 'secret-sauce'] as const;

/** Agents whose `shared` flag follows their tenant (it is the tenant's), descriptions tagged by owner. */
const world = fc
  .record({
    lanes: fc.subarray([...TENANTS]),
    agents: fc.array(
      fc.record({
        tenant: fc.constantFrom(...TENANTS),
        capabilities: fc.uniqueArray(fc.constantFrom(...CAPS), { maxLength: 4 }),
        describe: fc.uniqueArray(fc.constantFrom(...CAPS), { maxLength: 4 }),
        withSchema: fc.boolean(),
        registeredAt: fc.integer({ min: 0, max: 5 }),
      }),
      { maxLength: 12 },
    ),
  })
  .map(({ lanes, agents }): CatalogAgent[] =>
    agents.map((a, i) => {
      const agentId = `agent-${i}`;
      return {
        agentId,
        tenant: a.tenant,
        shared: lanes.includes(a.tenant),
        capabilities: a.capabilities,
        descriptors: a.describe
          .filter((c) => a.capabilities.includes(c))
          .map((name) => ({
            name,
            description: `${a.tenant}/${agentId}/${name}`,
            ...(a.withSchema ? { inputSchema: { type: 'object', title: `${a.tenant}/${agentId}` } } : {}),
          })),
        registeredAt: a.registeredAt,
      };
    }),
  );

const ownerOf = (e: CatalogEntry): string | undefined => e.description?.split('/')[0];

describe('buildCatalog for a tenant', () => {
  it('never shows another tenant’s private capability, not even its name or description', () => {
    fc.assert(
      fc.property(world, fc.constantFrom(...TENANTS), (agents, viewer) => {
        const entries = buildCatalog(agents, { kind: 'tenant', tenant: viewer });
        const eligible = agents.filter((a) => a.shared || a.tenant === viewer);
        const reachable = new Set(eligible.flatMap((a) => a.capabilities));
        const lanes = new Set(agents.filter((a) => a.shared).map((a) => a.tenant));
        for (const e of entries) {
          CatalogEntry.parse(e);
          expect(reachable.has(e.name)).toBe(true);
          expect(e.tenants).toBeUndefined();
          const owner = ownerOf(e);
          if (owner !== undefined) expect(owner === viewer || lanes.has(owner)).toBe(true);
          const schemaOwner = (e.inputSchema?.title as string | undefined)?.split('/')[0];
          if (schemaOwner !== undefined) expect(schemaOwner === viewer || lanes.has(schemaOwner)).toBe(true);
        }
        expect(entries.map((e) => e.name)).toEqual([...reachable].sort());
      }),
    );
  });

  it('counts the live agents and says who serves each entry', () => {
    fc.assert(
      fc.property(world, fc.constantFrom(...TENANTS), (agents, viewer) => {
        for (const e of buildCatalog(agents, { kind: 'tenant', tenant: viewer })) {
          const serving = agents.filter(
            (a) => (a.shared || a.tenant === viewer) && a.capabilities.includes(e.name),
          );
          expect(e.liveAgents).toBe(serving.length);
          const own = serving.some((a) => a.tenant === viewer);
          const lane = serving.some((a) => a.tenant !== viewer);
          expect(e.servedBy).toEqual([...(own ? ['own'] : []), ...(lane ? ['lane'] : [])]);
        }
      }),
    );
  });

  it('takes the description of the best describing agent: own before lane, then newest', () => {
    fc.assert(
      fc.property(world, fc.constantFrom(...TENANTS), (agents, viewer) => {
        for (const e of buildCatalog(agents, { kind: 'tenant', tenant: viewer })) {
          const describing = agents
            .filter((a) => (a.shared || a.tenant === viewer) && a.descriptors.some((d) => d.name === e.name))
            .map((a) => ({ own: a.tenant === viewer, registeredAt: a.registeredAt, agentId: a.agentId }))
            .sort(compareCandidates);
          const best = describing[0];
          if (!best) expect(e.description).toBeUndefined();
          else expect(e.description?.split('/')[1]).toBe(best.agentId);
        }
      }),
    );
  });
});

describe('buildCatalog for the admin', () => {
  it('lists every live agent’s capability with the tenants serving it', () => {
    fc.assert(
      fc.property(world, (agents) => {
        const entries = buildCatalog(agents, { kind: 'admin' });
        expect(entries.map((e) => e.name)).toEqual(
          [...new Set(agents.flatMap((a) => a.capabilities))].sort(),
        );
        for (const e of entries) {
          const serving = agents.filter((a) => a.capabilities.includes(e.name));
          expect(e.tenants).toEqual([...new Set(serving.map((a) => a.tenant))].sort());
          expect(e.liveAgents).toBe(serving.length);
        }
      }),
    );
  });
});

describe('buildCatalog, the cases spelled out', () => {
  const agent = (o: Partial<CatalogAgent> & Pick<CatalogAgent, 'agentId' | 'tenant'>): CatalogAgent => ({
    shared: false,
    capabilities: [],
    descriptors: [],
    registeredAt: 0,
    ...o,
  });

  it('an agent sending only names is listed without a description', () => {
    const agents = [agent({ agentId: 'a1', tenant: 'acme', capabilities: ['echo', 'chat'] })];
    expect(buildCatalog(agents, { kind: 'tenant', tenant: 'acme' })).toEqual([
      { name: 'chat', servedBy: ['own'], liveAgents: 1 },
      { name: 'echo', servedBy: ['own'], liveAgents: 1 },
    ]);
  });

  it('prefers the own tenant’s description over a newer lane’s, and a newer own one over an older', () => {
    const agents = [
      agent({
        agentId: 'old-own',
        tenant: 'acme',
        capabilities: ['render'],
        descriptors: [{ name: 'render', description: 'old own' }],
        registeredAt: 1,
      }),
      agent({
        agentId: 'lane',
        tenant: 'lane',
        shared: true,
        capabilities: ['render'],
        descriptors: [{ name: 'render', description: 'lane', inputSchema: { type: 'object' } }],
        registeredAt: 9,
      }),
      agent({
        agentId: 'new-own',
        tenant: 'acme',
        capabilities: ['render'],
        descriptors: [{ name: 'render', description: 'new own' }],
        registeredAt: 5,
      }),
      // Names only, newest of all: counted, but says nothing.
      agent({ agentId: 'quiet', tenant: 'acme', capabilities: ['render'], registeredAt: 10 }),
    ];
    expect(buildCatalog(agents, { kind: 'tenant', tenant: 'acme' })).toEqual([
      { name: 'render', description: 'new own', servedBy: ['own', 'lane'], liveAgents: 4 },
    ]);
    expect(buildCatalog(agents, { kind: 'tenant', tenant: 'beta' })).toEqual([
      {
        name: 'render',
        description: 'lane',
        inputSchema: { type: 'object' },
        servedBy: ['lane'],
        liveAgents: 1,
      },
    ]);
    expect(buildCatalog(agents, { kind: 'admin' })[0]).toMatchObject({
      description: 'lane', // the newest that says something
      servedBy: ['own', 'lane'],
      tenants: ['acme', 'lane'],
    });
  });

  it('breaks a tie of registration times by agent id, whatever the input order', () => {
    const a: Candidate = { own: true, registeredAt: 3, agentId: 'a' };
    const b: Candidate = { own: true, registeredAt: 3, agentId: 'b' };
    expect(compareCandidates(a, b)).toBeLessThan(0);
    expect(compareCandidates(b, a)).toBeGreaterThan(0);
    expect(compareCandidates(a, { ...a })).toBe(0);
  });
});
