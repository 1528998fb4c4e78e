// `clawdie-host revoke T`: revokes the tenant's hive token (its agents get 401), removes its .env,
// marks it revoked. Non-zero if either step failed (the row then says what is left).
import type { Command } from '../command.ts';
import { EXIT } from '../exit-codes.ts';
import { parseFlags, tenantArg, withContext } from './context.ts';
import { revokeTenant } from './tenant-ops.ts';

export const run: Command = async (argv, io) => {
  const parsed = parseFlags(argv);
  const tenant = tenantArg(parsed.positionals[0]);
  return withContext(parsed, io, async (ctx) => {
    const out = await revokeTenant(ctx, tenant);
    const ok = out.errors.length === 0;
    ctx.print(out, [
      `${tenant}: hive token ${out.tokenRevoked ? 'revoked' : 'NOT revoked'}, .env ${out.envRemoved ? 'removed' : 'NOT removed'}`,
      ...out.errors.map((e) => `  ${e}`),
    ]);
    if (!ok) io.stderr.write(`clawdie-host revoke: ${tenant}: ${out.errors.join('; ')}\n`);
    return ok ? EXIT.ok : EXIT.failure;
  });
};
