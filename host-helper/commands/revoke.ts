// `clawdie-host revoke T`: revokes the tenant's hive token (its agents get 401), removes its .env,
// marks it revoked; then does the same for every tenant spawned from T (DESIGN §8: revoking a
// parent cascades), deepest first, as far as they have a row on this host. The descendants come
// from the hive's spawn lineage, asked BEFORE T's token is revoked. If the hive cannot list them,
// T is still revoked exactly as before (fail closed) and the exit is non-zero, saying so.
// Non-zero if any step failed (each row then says what is left).
import { describeError } from '../../src/errors.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-codes.ts';
import { type HostContext, parseFlags, tenantArg, withContext } from './context.ts';
import { type RevokeOutcome, revokeTenant } from './tenant-ops.ts';

export interface RevokeCascadeOutcome extends RevokeOutcome {
  /** The spawned descendants revoked on this host, deepest first. */
  descendants: RevokeOutcome[];
  /** Descendants the hive knows that have no row here (another host's, or never provisioned). */
  notOnThisHost: string[];
  /** Set when the hive could not list the descendants (none of them was touched then). */
  descendantsError?: string;
}

export async function revokeWithDescendants(ctx: HostContext, tenant: string): Promise<RevokeCascadeOutcome> {
  ctx.store.require(tenant);
  let listed: string[] = [];
  let descendantsError: string | undefined;
  try {
    listed = await ctx.hive.descendants(tenant);
  } catch (err) {
    descendantsError = `descendants could not be listed: ${describeError(err)}`;
  }
  const own = await revokeTenant(ctx, tenant);
  const descendants: RevokeOutcome[] = [];
  const notOnThisHost: string[] = [];
  // The hive answers parents before children: reversed, a child goes before its parent.
  for (const child of [...listed].reverse()) {
    if (child === tenant) continue;
    if (!ctx.store.get(child)) {
      notOnThisHost.push(child);
      continue;
    }
    descendants.push(await revokeTenant(ctx, child));
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
        ? [`  descendants not on this host: ${out.notOnThisHost.join(', ')}`]
        : []),
    ]);
    if (problems.length > 0) io.stderr.write(`clawdie-host revoke: ${problems.join('; ')}\n`);
    return problems.length === 0 ? EXIT.ok : EXIT.failure;
  });
};
