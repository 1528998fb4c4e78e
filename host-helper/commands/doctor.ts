// `clawdie-host doctor`: checks what provisioning needs and says how to fix what is wrong — bw
// installed and pointed at vault.server, the credential and admin-token files root-only, the
// store writable, the jails dir present, the hive reachable with the admin token. Exit 1 if any fail.
import fs from 'node:fs';
import { describeError } from '../../src/errors.ts';
import type { Command } from '../command.ts';
import { hiveTrustOf } from '../config/hive-trust.ts';
import { checkSecretFile, readAdminToken } from '../config/secret-file.ts';
import { EXIT } from '../exit-codes.ts';
import { hiveAdmin } from '../hive-admin/client.ts';
import { VaultError } from '../vault/index.ts';
import { type HostContext, parseFlags, withContext } from './context.ts';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

const VAULT_FIX: Record<string, string> = {
  not_installed: 'install the Bitwarden CLI (bw) or set vault.bwBin',
  wrong_server: 'run `bw config server <vault.server>` for the appdata dir, or fix vault.server',
  timeout: 'check that the vault server answers; raise vault.timeoutMs if it is slow',
};

async function check(name: string, fix: string, fn: () => Promise<string> | string): Promise<Check> {
  try {
    return { name, ok: true, detail: await fn() };
  } catch (err) {
    const specific = err instanceof VaultError ? VAULT_FIX[err.code] : undefined;
    return { name, ok: false, detail: describeError(err), fix: specific ?? fix };
  }
}

async function runChecks(ctx: HostContext): Promise<Check[]> {
  const c = ctx.config;
  return [
    await check('bw', 'install bw and point it at vault.server', async () => {
      await ctx.vault().checkServer();
      return `bw found, server ${c.vault.server}`;
    }),
    await check('credentials', `chown root ${c.vault.credentialsFile} && chmod 0600 it`, () => {
      checkSecretFile(c.vault.credentialsFile, 'vault credentials file');
      return `${c.vault.credentialsFile} is root-only`;
    }),
    await check('hive admin token', `chown root ${c.hive.adminTokenFile} && chmod 0600 it`, () => {
      readAdminToken(c.hive.adminTokenFile);
      return `${c.hive.adminTokenFile} is root-only`;
    }),
    await check('store', `make ${c.store} (and its directory) writable by root, mode 0600`, () => {
      ctx.store.probeWritable();
      return `${c.store} is writable`;
    }),
    await check('jails', `create ${c.jails.root} or fix jails.root`, () => {
      if (!fs.statSync(c.jails.root).isDirectory()) throw new Error(`${c.jails.root} is not a directory`);
      return `${ctx.backend.kind} backend, jails in ${ctx.backend.jailsRoot()}`;
    }),
    await check('hive', `start the hive at ${c.hive.url} or fix hive.url / the admin token`, async () => {
      const admin = hiveAdmin(c.hive.url, readAdminToken(c.hive.adminTokenFile), 5_000, hiveTrustOf(c.hive));
      try {
        const { agents } = await admin.listAgents();
        return `${c.hive.url} answers (${agents.length} agents)`;
      } finally {
        await admin.close();
      }
    }),
  ];
}

export const run: Command = async (argv, io) => {
  const parsed = parseFlags(argv, {}, 0);
  return withContext(parsed, io, async (ctx) => {
    const checks = await runChecks(ctx);
    const ok = checks.every((x) => x.ok);
    ctx.print(
      { ok, checks },
      checks.map(
        (x) =>
          `${x.ok ? 'ok  ' : 'FAIL'} ${x.name.padEnd(16)} ${x.detail}${x.fix ? `\n     fix: ${x.fix}` : ''}`,
      ),
    );
    return ok ? EXIT.ok : EXIT.failure;
  });
};
