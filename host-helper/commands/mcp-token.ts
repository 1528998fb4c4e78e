// `clawdie-host mcp-token T [--out F] [--json] [--config F]` (issue 17): how tenant T connects an
// MCP client to the hive. `provision` already holds T's hive token in the root-only host store;
// this command never prints it. Without --out it says where the token is and how to get it; with
// --out it writes the token to F (created new: O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, never over an
// existing file or through a link) for the operator to hand to the tenant. Either way it prints the
// JSON a user pastes into an MCP client's configuration, for both forms: the HTTP URL with the
// bearer header, and the stdio bridge (`clawdie-host mcp`), which reads the token from a file.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from '../command.ts';
import type { HostConfig } from '../config/host-config.ts';
import { EXIT, HostError, usageError } from '../exit-codes.ts';
import { MCP_PATH } from '../hive/mcp/names.ts';
import { parseFlags, tenantArg, withContext } from './context.ts';

/** Creates `file` with the token, 0600, refusing an existing file or a link. */
async function writeTokenFile(file: string, token: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(
      file,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EEXIST')
      throw new HostError(`${file} exists; remove it or name a new file`, EXIT.policy, { cause: err });
    throw new HostError(`${file}: cannot create (${code ?? 'error'})`, EXIT.failure, { cause: err });
  }
  try {
    await fh.writeFile(`${token}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The two client configurations (the token itself is never in them: a file path or a placeholder).
 * The bridge trusts the hive as the host does (host.json's hive.pin, hive.caFile, privateNetwork).
 */
export function clientConfigs(tenant: string, hive: HostConfig['hive'], tokenFile: string) {
  const base = hive.url.replace(/\/+$/, '');
  const trust = [
    ...(hive.caFile ? ['--ca-file', hive.caFile] : []),
    ...(hive.pin ? ['--pin', hive.pin] : []),
    ...(hive.privateNetwork ? ['--private-network'] : []),
  ];
  const name = `clawdie-${tenant}`;
  return {
    http: {
      mcpServers: {
        [name]: {
          type: 'http',
          url: `${base}${MCP_PATH}`,
          headers: { Authorization: `Bearer <the token in ${tokenFile}>` },
        },
      },
    },
    stdio: {
      mcpServers: {
        [name]: {
          command: 'clawdie-host',
          args: ['mcp', '--hive', base, '--token-file', tokenFile, ...trust],
        },
      },
    },
  };
}

export const run: Command = async (argv, io) => {
  const parsed = parseFlags(argv, { out: { type: 'string' } });
  const tenant = tenantArg(parsed.positionals[0]);
  const out = parsed.values.out;
  if (out !== undefined && (typeof out !== 'string' || !path.isAbsolute(out)))
    throw usageError('--out must be an absolute path');
  return withContext(parsed, io, async (ctx) => {
    const row = ctx.store.require(tenant);
    const token = ctx.store.hiveToken(tenant);
    if (token === undefined) {
      throw new HostError(
        `tenant ${tenant} has no hive token yet: run clawdie-host provision ${tenant}`,
        EXIT.notFound,
      );
    }
    if (out !== undefined) await writeTokenFile(out, token);
    const file = out ?? `/home/<you>/.config/clawdie/${tenant}.token`;
    const configs = clientConfigs(tenant, ctx.config.hive, file);
    const where = out
      ? [
          `token of ${tenant} written to ${out} (mode 0600): hand it to the tenant; it works until the token is rotated`,
        ]
      : [
          `the hive token of ${tenant} is in the host store ${ctx.config.store} (root only); it is never printed.`,
          `write it to a new 0600 file for the tenant: clawdie-host mcp-token ${tenant} --out /absolute/path/${tenant}.token`,
        ];
    ctx.print({ tenant, status: row.status, tokenFile: out ?? null, hive: ctx.config.hive.url, ...configs }, [
      ...where,
      'The user keeps the file on the machine of the MCP client, owned by them, mode 0600.',
      '',
      'MCP client configuration, HTTP (the client sends the token as a bearer header):',
      JSON.stringify(configs.http, null, 2),
      '',
      'MCP client configuration, stdio (the client launches the bridge; the token stays in the file):',
      JSON.stringify(configs.stdio, null, 2),
    ]);
    return EXIT.ok;
  });
};
