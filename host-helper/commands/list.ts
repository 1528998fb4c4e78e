// `clawdie-host list`: every tenant row (never a token), a table for people, JSON for machines.
import type { Command } from '../command.ts';
import { EXIT } from '../exit-codes.ts';
import { parseFlags, withContext } from './context.ts';

export const run: Command = async (argv, io) => {
  const parsed = parseFlags(argv, {}, 0);
  return withContext(parsed, io, async (ctx) => {
    const rows = ctx.store.list();
    const table = rows.map(
      (r) =>
        `${r.tenant_id.padEnd(24)} ${r.status.padEnd(8)} ${r.collection_name}${r.reason ? `  (${r.reason})` : ''}`,
    );
    ctx.print(
      { tenants: rows },
      rows.length === 0
        ? ['no tenants']
        : [`${'TENANT'.padEnd(24)} ${'STATUS'.padEnd(8)} COLLECTION`, ...table],
    );
    return EXIT.ok;
  });
};
