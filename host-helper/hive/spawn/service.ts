// The hive's side of `POST /v1/spawn` and of the revoke cascade (DESIGN §8). Gathers the facts
// (parent agent, lineage counts, recent attempts), asks the pure decideSpawn, records the child
// before running the executor (so limits hold across concurrent requests and restarts), and on a
// tenant's revocation revokes every live descendant's token too. Requests are serialized.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../../src/log.ts';
import type { AgentView, RegisterRequest, SpawnRequest, SpawnResponse } from '../../../src/protocol/index.ts';
import type { Principal } from '../coordinator.ts';
import { forbidden, HttpError } from '../http/http-error.ts';
import { ANY_STATE, childTenantName, decideSpawn, descendants, executorArgv } from './decide.ts';
import type { ExecutorOutcome, ExecutorSpec } from './executor.ts';
import type { SpawnLineage } from './lineage.ts';
import type { SpawnPolicy } from './policy.ts';

/** The parts of the coordinator the spawn service uses. */
export interface SpawnHive {
  listAgents(): Promise<AgentView[]>;
  revokeTenantToken(tenant: string): Promise<void>;
}

export interface SpawnServiceOptions {
  policy: SpawnPolicy;
  lineage: SpawnLineage;
  hive: SpawnHive;
  log: Logger;
  execute: (spec: ExecutorSpec, stdin: unknown) => Promise<ExecutorOutcome>;
  now?: () => number;
  suffix?: () => string;
}

export class SpawnService {
  readonly #o: SpawnServiceOptions;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: SpawnServiceOptions) {
    this.#o = options;
  }

  /** Serializes: the decision and the lineage insert must not interleave with another request's. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn, fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  request(p: Principal, req: SpawnRequest): Promise<SpawnResponse> {
    return this.#serial(async () => {
      const { policy, lineage, log } = this.#o;
      const now = (this.#o.now ?? Date.now)();
      const agent = (await this.#o.hive.listAgents()).find((a) => a.agentId === req.parent) ?? null;
      const parentTenant = agent?.tenant ?? (p.kind === 'tenant' ? p.tenant : '');
      const own = lineage.get(parentTenant);
      const root = own?.rootTenant ?? parentTenant;
      const windowStart = now - policy.rate.perSeconds * 1000;
      const decision = decideSpawn(policy, req, {
        requesterTenant: p.kind === 'tenant' ? p.tenant : null,
        parent: agent,
        parentDepth: own?.depth ?? 0,
        childrenOfParent: lineage.childrenOfAgent(req.parent),
        totalForRoot: lineage.totalForRoot(root),
        recentAttempts: lineage.attemptsSince(root, windowStart),
        now,
      });
      if (!decision.allow) {
        log.info(
          { parent: req.parent, tenant: parentTenant || undefined, reason: decision.deny },
          'spawn refused',
        );
        throw forbidden(decision.deny);
      }
      const suffix = (this.#o.suffix ?? (() => randomBytes(4).toString('hex')))();
      const child = childTenantName(parentTenant, suffix);
      const capabilities = [...new Set(req.capabilities)].sort();
      lineage.insert({
        child,
        parentAgent: req.parent,
        parentTenant,
        rootTenant: root,
        depth: decision.depth,
        capabilities,
        state: 'pending',
        createdAt: now,
      });
      const values = {
        child,
        tenant: parentTenant,
        root,
        parent: req.parent,
        capabilities,
        depth: decision.depth,
      };
      const executor = policy.executor!;
      const outcome = await this.#o.execute(
        {
          argv: executorArgv(executor.command, values),
          timeoutSeconds: executor.timeoutSeconds,
          passEnv: executor.passEnv,
        },
        values,
      );
      if (!outcome.ok) {
        lineage.setState(child, 'failed');
        log.warn({ child, parent: req.parent, reason: outcome.reason }, 'spawn failed');
        throw new HttpError('unavailable', `spawn failed: ${outcome.reason}`);
      }
      lineage.setState(child, 'active');
      log.info({ child, parent: req.parent, depth: decision.depth, capabilities }, 'spawned');
      return { child, depth: decision.depth, capabilities };
    });
  }

  /**
   * Children's capabilities ⊆ what the spawn granted (DESIGN §8), enforced where routing looks: a
   * spawned tenant's registration keeps only the granted capabilities (plus the built-in echo),
   * whatever skills its image happens to carry. Other tenants pass unchanged.
   */
  limitRegistration(reg: RegisterRequest): RegisterRequest {
    const record = this.#o.lineage.get(reg.tenant);
    if (!record) return reg;
    const granted = new Set([...record.capabilities, 'echo']);
    const kept = reg.capabilities.filter((c) => granted.has(c));
    if (kept.length !== reg.capabilities.length) {
      const dropped = reg.capabilities.filter((c) => !granted.has(c));
      this.#o.log.info(
        { agentId: reg.agentId, tenant: reg.tenant, dropped },
        'spawned agent: ungranted capabilities dropped',
      );
    }
    // A dropped capability's descriptor goes too (the catalog lists only what the agent serves).
    const descriptors = reg.descriptors?.filter((d) => granted.has(d.name));
    return { ...reg, capabilities: kept, ...(descriptors ? { descriptors } : {}) };
  }

  /**
   * Every tenant spawned from `tenant` (any state, parents first), for the host's `revoke` to remove
   * their .env files too. Not serialized: a read of committed rows.
   */
  async descendantsOf(tenant: string): Promise<string[]> {
    return descendants(this.#o.lineage.all(), tenant, ANY_STATE);
  }

  /** After `tenant` was revoked: revoke every live descendant (their agents get 401 and drain). */
  cascade(tenant: string): Promise<string[]> {
    return this.#serial(async () => {
      const { lineage, log } = this.#o;
      const own = lineage.get(tenant);
      if (own) lineage.setState(tenant, 'revoked');
      const revoked: string[] = [];
      for (const child of descendants(lineage.all(), tenant)) {
        lineage.setState(child, 'revoked');
        try {
          await this.#o.hive.revokeTenantToken(child);
        } catch (err) {
          // A child whose executor never minted a token has nothing to revoke at the hive.
          if (!(err instanceof HttpError && err.code === 'not_found')) throw err;
        }
        revoked.push(child);
      }
      if (revoked.length > 0) log.info({ tenant, children: revoked }, 'revoked spawned descendants');
      return revoked;
    });
  }
}
