// `clawdie-host provision T... [--rotate-token]`: fetches each tenant's collection (one bw session
// for all), mints or reuses its hive token, writes and verifies its .env, marks it active.
// Exit 0 when every tenant is written, unchanged or has no collection; else the first failure's code.
import type { Command } from '../command.ts';
import { EXIT, usageError } from '../exit-codes.ts';
import { parseFlags, tenantArg, withContext } from './context.ts';
import { type ProvisionOutcome, provisionTenants } from './tenant-ops.ts';

export function describeOutcome(o: ProvisionOutcome): string {
  switch (o.result) {
    case 'written':
      return `${o.tenant}: .env written (via ${o.via}), verified, status active`;
    case 'unchanged':
      return `${o.tenant}: .env unchanged, status active`;
    case 'no-collection':
      return `${o.tenant}: no collection in the vault; nothing to do (status ${o.status})`;
    case 'refused':
      return `${o.tenant}: refused: ${o.error}`;
    case 'failed':
      return `${o.tenant}: failed: ${o.error}`;
  }
}

export const run: Command = async (argv, io) => {
  const parsed = parseFlags(argv, { 'rotate-token': { type: 'boolean' } }, 100);
  if (parsed.positionals.length === 0) throw usageError('missing tenant name');
  const tenants = [...new Set(parsed.positionals.map(tenantArg))];
  return withContext(parsed, io, async (ctx) => {
    const outcomes = await provisionTenants(ctx, tenants, parsed.values['rotate-token'] === true);
    const failed = outcomes.find((o) => o.exitCode !== EXIT.ok);
    const data = outcomes.map(({ exitCode: _e, ...rest }) => rest);
    ctx.print(tenants.length === 1 ? data[0] : { tenants: data }, outcomes.map(describeOutcome));
    if (failed) io.stderr.write(`clawdie-host provision: ${describeOutcome(failed)}\n`);
    return failed ? failed.exitCode : EXIT.ok;
  });
};
