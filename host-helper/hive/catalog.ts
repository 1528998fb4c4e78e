// The capability catalog (DESIGN §5, `GET /v1/capabilities`) as a pure decision: live agents in,
// the entries the viewer may route to out. A tenant sees what routing would hand its tasks to — its
// own agents' capabilities and shared lanes' — and nothing of another tenant's private agents, not
// even a name or a description of a capability it also serves. The admin sees every live agent's,
// with the tenants that serve each. No I/O: the store reads the agents (catalogAgents), this decides.
import type { CapabilityDescriptor, CatalogEntry, ServedBy } from '../../src/protocol/index.ts';
import { servesTenant } from './routing.ts';
import type { CatalogAgent } from './store/store.ts';

/** Who asks: one tenant (its token) or the host (the admin token); a Principal is one. */
export type CatalogViewer = { kind: 'tenant'; tenant: string } | { kind: 'admin' };

/** A descriptor that says something (a names-only agent's capability has none). */
const says = (d: CapabilityDescriptor | undefined): d is CapabilityDescriptor =>
  d !== undefined && (d.description !== undefined || d.inputSchema !== undefined);

/** A describing agent as the choice among several descriptions sees it. */
export interface Candidate {
  own: boolean;
  registeredAt: number;
  agentId: string;
}

/**
 * Which of two agents' descriptions of the same capability wins: the viewer's own tenant's before
 * a lane's, then the newest registration, then the agent id (so the answer never depends on order).
 * Negative when `a` wins.
 */
export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.own !== b.own) return a.own ? -1 : 1;
  if (a.registeredAt !== b.registeredAt) return b.registeredAt - a.registeredAt;
  return a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0;
}

interface Acc {
  served: Set<ServedBy>;
  agents: number;
  tenants: Set<string>;
  best: { by: Candidate; d: CapabilityDescriptor } | null;
}

/**
 * The catalog `viewer` may route to, sorted by name. For the admin, `servedBy` says whether a
 * private tenant's agents ('own') or a lane's ('lane') serve it, and the newest description wins.
 */
export function buildCatalog(agents: readonly CatalogAgent[], viewer: CatalogViewer): CatalogEntry[] {
  const byName = new Map<string, Acc>();
  for (const a of agents) {
    let own: boolean;
    if (viewer.kind === 'admin') own = !a.shared;
    else {
      // The routing rule itself (routing.canServe): the viewer's own agents and shared lanes'.
      if (!servesTenant(a, viewer.tenant)) continue;
      own = a.tenant === viewer.tenant;
    }
    const described = new Map(a.descriptors.map((d) => [d.name, d]));
    for (const name of new Set(a.capabilities)) {
      let acc = byName.get(name);
      if (!acc) {
        acc = { served: new Set(), agents: 0, tenants: new Set(), best: null };
        byName.set(name, acc);
      }
      acc.served.add(own ? 'own' : 'lane');
      acc.agents++;
      acc.tenants.add(a.tenant);
      const d = described.get(name);
      if (!says(d)) continue;
      const by: Candidate = {
        own: viewer.kind === 'tenant' && own,
        registeredAt: a.registeredAt,
        agentId: a.agentId,
      };
      if (acc.best === null || compareCandidates(by, acc.best.by) < 0) acc.best = { by, d };
    }
  }
  return [...byName.keys()]
    .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))
    .map((name) => {
      const acc = byName.get(name)!;
      const entry: CatalogEntry = {
        name,
        servedBy: (['own', 'lane'] as const).filter((s) => acc.served.has(s)),
        liveAgents: acc.agents,
      };
      if (acc.best?.d.description !== undefined) entry.description = acc.best.d.description;
      if (acc.best?.d.inputSchema !== undefined) entry.inputSchema = acc.best.d.inputSchema;
      if (viewer.kind === 'admin') entry.tenants = [...acc.tenants].sort();
      return entry;
    });
}
