// `clawdie-host spawn-agent T [--jail] [--collection NAME] [--shared]`: the spawner hook. With
// --jail the jail is created through the backend from the image template if it does not exist;
// then the tenant is registered, provisioned (so the .env is in place before the agent boots)
// and the jail is started if it is not running.
import type { Command } from '../command.ts';
import { EXIT, HostError } from '../exit-codes.ts';
import { parseFlags, tenantArg, withContext } from './context.ts';
import { describeOutcome } from './provision.ts';
import { provisionTenants, registerTenant } from './tenant-ops.ts';

export const run: Command = async (argv, io) => {
  const parsed = parseFlags(argv, {
    jail: { type: 'boolean' },
    collection: { type: 'string' },
    shared: { type: 'boolean' },
  });
  const tenant = tenantArg(parsed.positionals[0]);
  return withContext(parsed, io, async (ctx) => {
    const backend = ctx.backend;
    let created = false;
    if (!(await backend.exists(tenant))) {
      if (parsed.values.jail !== true) {
        throw new HostError(`jail ${tenant} does not exist (pass --jail to create it)`, EXIT.notFound);
      }
      await backend.create(tenant);
      created = true;
    }
    // The collection id is resolved by provision's own vault session: one bw session, not two.
    await registerTenant(ctx, tenant, {
      collection: parsed.values.collection as string | undefined,
      shared: parsed.values.shared === true ? true : undefined,
    });
    const [outcome] = await provisionTenants(ctx, [tenant], false);
    if (!outcome || outcome.exitCode !== EXIT.ok) {
      const line = outcome ? describeOutcome(outcome) : `${tenant}: provision failed`;
      throw new HostError(line, outcome?.exitCode ?? EXIT.failure);
    }
    const wasRunning = await backend.isRunning(tenant);
    if (!wasRunning) await backend.start(tenant);
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
