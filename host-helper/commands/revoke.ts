// `clawdie-host revoke T`: marks the tenant revoked, revokes its hive token (its agents get 401),
// removes its .env; then does the same for every tenant spawned from T (DESIGN §8: revoking a
// parent cascades), deepest first. The descendants come from the hive's spawn lineage, asked AFTER
// T's token is revoked: the hive answers that revocation only once its own cascade has run, which
// waits for any spawn in flight, so a child spawned meanwhile is listed too. A listed descendant
// with no row on this host is recorded as revoked (its spawn-agent may still be on its way; it is
// then refused). If the hive cannot list them, T is still revoked and the exit is non-zero,
// saying so. Non-zero if any step failed (each row then says what is left); run it again to finish.
import { describeError } from '../../src/errors.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-codes.ts';
import { type HostContext, parseFlags, tenantArg, withContext } from './context.ts';
import { type RevokeOutcome, revokeTenant } from './tenant-ops.ts';

export interface RevokeCascadeOutcome extends RevokeOutcome {
  /** The spawned descendants revoked, deepest first. */
  descendants: RevokeOutcome[];
  /** Descendants the hive knows that had no row here (another host's, or not spawned yet): recorded as revoked. */
  notOnThisHost: string[];
  /** Set when the hive could not list the descendants (none of them was touched then). */
  descendantsError?: string;
}

export async function revokeWithDescendants(ctx: HostContext, tenant: string): Promise<RevokeCascadeOutcome> {
  ctx.store.require(tenant);
  const own = await revokeTenant(ctx, tenant);
  let listed: string[] = [];
  let descendantsError: string | undefined;
  try {
    listed = await ctx.hive.descendants(tenant);
  } catch (err) {
    descendantsError = `descendants could not be listed: ${describeError(err)}`;
  }
  const descendants: RevokeOutcome[] = [];
  const notOnThisHost: string[] = [];
  // The hive answers parents before children: reversed, a child goes before its parent.
  for (const child of [...listed].reverse()) {
    if (child === tenant) continue;
    if (!ctx.store.get(child)) notOnThisHost.push(child);
    descendants.push(await revokeTenant(ctx, child, { recordIfMissing: true }));
  }
  return { ...own, descendants, notOnThisHost, ...(descendantsError ? { descendantsError } : {}) };
}

const line = (o: RevokeOutcome, indent = ''): string =>
  `${indent}${o.tenant}: hive token ${o.tokenRevoked ? 'revoked' : 'NOT revoked'}, .env ${o.envRemoved ? 'removed' : 'NOT removed'}`;

export const run: Command = async (argv, io) => {
  const parsed = parseFlags(argv);
  const tenant = tenantArg(parsed.positionals[0]);
  return withContext(parsed, io, async (ctx) => {
    const out = await revokeWithDescendants(ctx, tenant);
    const problems = [
      ...out.errors.map((e) => `${tenant}: ${e}`),
      ...(out.descendantsError ? [`${tenant}: ${out.descendantsError}`] : []),
      ...out.descendants.flatMap((d) => d.errors.map((e) => `${d.tenant}: ${e}`)),
    ];
    ctx.print(out, [
      line(out),
      ...out.errors.map((e) => `  ${e}`),
      ...(out.descendantsError ? [`  ${out.descendantsError}`] : []),
      ...out.descendants.flatMap((d) => [line(d, '  descendant '), ...d.errors.map((e) => `    ${e}`)]),
      ...(out.notOnThisHost.length > 0
        ? [`  descendants with no row here, recorded as revoked: ${out.notOnThisHost.join(', ')}`]
        : []),
    ]);
    if (problems.length > 0) io.stderr.write(`clawdie-host revoke: ${problems.join('; ')}\n`);
    return problems.length === 0 ? EXIT.ok : EXIT.failure;
  });
};
