// `clawdie-host spawn-agent T [--jail] [--collection NAME] [--shared]`: the spawner hook. The tenant
// is registered (a revoked one is refused, exit 4: only register-tenant re-enables it), with --jail
// its jail is created through the backend from the image template if it does not exist, it is
// provisioned (so the .env is in place before the agent boots), and the jail is started if it is
// not running — under the tenant's lock, never for a row revoked meanwhile (a revoke that lands
// after provision keeps the jail stopped).
import type { Command } from '../command.ts';
import { EXIT, HostError } from '../exit-codes.ts';
import { parseFlags, tenantArg, withContext } from './context.ts';
import { describeOutcome } from './provision.ts';
import { provisionTenants, registerTenant, revokedError } from './tenant-ops.ts';

export const run: Command = async (argv, io) => {
  const parsed = parseFlags(argv, {
    jail: { type: 'boolean' },
    collection: { type: 'string' },
    shared: { type: 'boolean' },
  });
  const tenant = tenantArg(parsed.positionals[0]);
  return withContext(parsed, io, async (ctx) => {
    const backend = ctx.backend;
    const exists = await backend.exists(tenant);
    if (!exists && parsed.values.jail !== true) {
      throw new HostError(`jail ${tenant} does not exist (pass --jail to create it)`, EXIT.notFound);
    }
    // The collection id is resolved by provision's own vault session: one bw session, not two.
    await registerTenant(ctx, tenant, {
      collection: parsed.values.collection as string | undefined,
      shared: parsed.values.shared === true ? true : undefined,
    });
    // Created under the tenant's lock on a fresh look: never for a tenant revoked meanwhile, and
    // two spawn-agents for one new tenant create it once.
    const created = await ctx.withTenantLock(tenant, async () => {
      if (ctx.store.require(tenant).status === 'revoked') throw revokedError(tenant);
      if (await backend.exists(tenant)) return false;
      await backend.create(tenant);
      return true;
    });
    const [outcome] = await provisionTenants(ctx, [tenant], false);
    if (!outcome || outcome.exitCode !== EXIT.ok) {
      const line = outcome ? describeOutcome(outcome) : `${tenant}: provision failed`;
      throw new HostError(line, outcome?.exitCode ?? EXIT.failure);
    }
    const wasRunning = await ctx.withTenantLock(tenant, async () => {
      if (ctx.store.require(tenant).status === 'revoked') throw revokedError(tenant);
      const running = await backend.isRunning(tenant);
      if (!running) await backend.start(tenant);
      return running;
    });
    ctx.print(
      {
        tenant,
        jailCreated: created,
        started: !wasRunning,
        provision: outcome.result,
        status: outcome.status,
      },
      [
        `${tenant}: jail ${created ? 'created' : 'exists'}, ${describeOutcome(outcome)}, jail ${wasRunning ? 'already running' : 'started'}`,
      ],
    );
    return EXIT.ok;
  });
};
