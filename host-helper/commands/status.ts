// `clawdie-host status T`: the tenant row, whether a hive token is stored (never the token), the
// jail's state and what the .env in place looks like compared with what was last written.

import { describeError } from '../../src/errors.ts';
import type { Command } from '../command.ts';
import { inspectEnv } from '../envfile/safe-writer.ts';
import { EXIT } from '../exit-codes.ts';
import { parseFlags, tenantArg, withContext } from './context.ts';

export const run: Command = async (argv, io) => {
  const parsed = parseFlags(argv);
  const tenant = tenantArg(parsed.positionals[0]);
  return withContext(parsed, io, async (ctx) => {
    const row = ctx.store.require(tenant);
    const backend = ctx.backend;
    const exists = await backend.exists(row.jail);
    const running = exists && (await backend.isRunning(row.jail));
    let env: string;
    if (!exists) env = 'no jail';
    else {
      try {
        const state = inspectEnv({
          jailsRoot: backend.jailsRoot(),
          jail: row.jail,
          user: ctx.config.jails.user,
        });
        if (state.kind === 'file') {
          const mode = state.mode.toString(8).padStart(4, '0');
          env = `present, mode ${mode}, ${state.sha256 === row.env_sha256 ? 'as last written' : 'differs from last write'}`;
        } else env = state.kind === 'missing' ? 'missing' : `not a regular file (${state.what})`;
      } catch (err) {
        env = `unreadable: ${describeError(err)}`;
      }
    }
    const hasToken = ctx.store.hiveToken(tenant) !== undefined;
    ctx.print({ ...row, hiveTokenStored: hasToken, jail: { name: row.jail, exists, running }, env }, [
      `tenant      ${row.tenant_id}`,
      `status      ${row.status}${row.reason ? ` (${row.reason})` : ''}`,
      `collection  ${row.collection_name}${row.collection_id ? ` [${row.collection_id}]` : ' (not found yet)'}`,
      `hive token  ${hasToken ? 'stored' : 'none'}${row.shared ? ' (shared lane)' : ''}`,
      `jail        ${row.jail}: ${exists ? (running ? 'running' : 'stopped') : 'missing'}`,
      `.env        ${env}`,
      `updated     ${row.updated_at}`,
    ]);
    return EXIT.ok;
  });
};
