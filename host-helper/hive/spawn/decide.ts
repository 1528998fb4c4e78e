// The spawn decision (DESIGN §8), pure: policy + request + facts gathered by the hive → allow (with
// the child's depth) or deny with one line. Checks, in order: enabled, the parent is a live agent
// of the requesting tenant holding `spawn`, children's capabilities ⊆ the parent's, depth,
// children per parent, total per root tenant, rate.
import { SPAWN_CAPABILITY, type SpawnRequest } from '../../../src/protocol/index.ts';
import type { SpawnRecord } from './lineage.ts';
import { PLACEHOLDER_RE, type Placeholder, type SpawnPolicy } from './policy.ts';

/** What the hive knows when a spawn is asked for. */
export interface SpawnFacts {
  /** The tenant whose token made the request (null for the admin token: admins do not spawn). */
  requesterTenant: string | null;
  /** The parent agent as registered, or null if unknown. */
  parent: { agentId: string; tenant: string; capabilities: string[]; state: string } | null;
  /** Generation of the parent's tenant: 0 for a tenant the host registered, n for a spawned one. */
  parentDepth: number;
  /** Live (pending or active) children this parent agent already spawned. */
  childrenOfParent: number;
  /** Live spawned tenants under the same root tenant, all generations. */
  totalForRoot: number;
  /** Times (epoch ms) of spawn attempts under the same root tenant. */
  recentAttempts: number[];
  now: number;
}

export type SpawnDecision = { allow: true; depth: number } | { allow: false; deny: string };

const deny = (reason: string): SpawnDecision => ({ allow: false, deny: reason });

/** `echo` is built into every agent, so a child may always have it. */
const BUILT_IN = new Set(['echo']);

export function decideSpawn(policy: SpawnPolicy, request: SpawnRequest, facts: SpawnFacts): SpawnDecision {
  if (!policy.enabled) return deny('spawn policy disabled');
  if (facts.requesterTenant === null) return deny('spawns are asked for by a tenant agent, not the admin');
  const parent = facts.parent;
  if (parent === null || parent.tenant !== facts.requesterTenant)
    return deny('parent is not an agent of this tenant');
  if (parent.state !== 'live') return deny('parent agent is not live');
  if (policy.requireSpawnCapability && !parent.capabilities.includes(SPAWN_CAPABILITY)) {
    return deny('parent agent does not hold the spawn capability');
  }
  const missing = request.capabilities.find((c) => !BUILT_IN.has(c) && !parent.capabilities.includes(c));
  if (missing !== undefined) return deny(`capability ${missing} is not held by the parent`);
  const depth = facts.parentDepth + 1;
  if (depth > policy.maxDepth) return deny(`depth ${depth} exceeds the limit of ${policy.maxDepth}`);
  if (facts.childrenOfParent >= policy.maxChildrenPerParent) {
    return deny(
      `parent already has ${facts.childrenOfParent} children (limit ${policy.maxChildrenPerParent})`,
    );
  }
  if (facts.totalForRoot >= policy.maxTotalPerTenant) {
    return deny(
      `tenant already has ${facts.totalForRoot} spawned agents (limit ${policy.maxTotalPerTenant})`,
    );
  }
  const windowStart = facts.now - policy.rate.perSeconds * 1000;
  const recent = facts.recentAttempts.filter((t) => t > windowStart).length;
  if (recent >= policy.rate.count) {
    return deny(`rate limit: at most ${policy.rate.count} spawns per ${policy.rate.perSeconds} s`);
  }
  return { allow: true, depth };
}

/** The executor's argv with placeholders filled in (values are validated names: no shell, no injection). */
export function executorArgv(
  command: readonly string[],
  values: {
    child: string;
    tenant: string;
    root: string;
    parent: string;
    capabilities: string[];
    depth: number;
  },
): string[] {
  const table: Record<Placeholder, string> = {
    ...values,
    capabilities: values.capabilities.join(','),
    depth: String(values.depth),
  };
  // Templates were checked against PLACEHOLDERS when the policy loaded; anything else stays as is.
  return command.map((arg) =>
    arg.replace(PLACEHOLDER_RE, (m, word: string) =>
      Object.hasOwn(table, word) ? table[word as Placeholder] : m,
    ),
  );
}

/** A child tenant name: the parent tenant's (shortened) plus a random suffix, valid as a tenant name. */
export function childTenantName(parentTenant: string, suffix: string): string {
  return `${parentTenant.slice(0, 62 - suffix.length - 1).replace(/-+$/, '')}-${suffix}`;
}

/** Rows that still count against limits and that a cascade must reach. */
const LIVE: readonly SpawnRecord['state'][] = ['pending', 'active'];

/** Every state: what the host's `revoke` must reach (a failed or already revoked child may keep a .env). */
export const ANY_STATE: readonly SpawnRecord['state'][] = ['pending', 'active', 'failed', 'revoked'];

/**
 * Every descendant of `tenant` whose row is in one of `states` (live ones by default), parents
 * before children (breadth first), each once.
 */
export function descendants(
  records: readonly Pick<SpawnRecord, 'child' | 'parentTenant' | 'state'>[],
  tenant: string,
  states: readonly SpawnRecord['state'][] = LIVE,
): string[] {
  const byParent = new Map<string, string[]>();
  for (const r of records) {
    if (!states.includes(r.state)) continue;
    byParent.set(r.parentTenant, [...(byParent.get(r.parentTenant) ?? []), r.child]);
  }
  const out: string[] = [];
  const seen = new Set([tenant]);
  const queue = [tenant];
  while (queue.length > 0) {
    for (const child of byParent.get(queue.shift()!) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}
