// What every clawdie-host command shares: flag parsing (node:util parseArgs, strict), the tenant
// name check (usage error, exit 2), loading host.json, opening the store, the backend, the vault
// and the hive admin client on demand, a per-tenant lock, and printing human text or --json.
import fs from 'node:fs';
import path from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { TenantName } from '../../src/protocol/names.ts';
import type { CommandIO } from '../command.ts';
import { hiveTrustOf } from '../config/hive-trust.ts';
import { type HostConfig, loadConfig } from '../config/host-config.ts';
import { readAdminToken } from '../config/secret-file.ts';
import { EXIT, HostError, usageError } from '../exit-codes.ts';
import { GLOBAL_FLAGS } from '../global-flags.ts';
import { type HiveAdmin, hiveAdmin } from '../hive-admin/client.ts';
import type { JailBackend } from '../jails/backend.ts';
import { createBackend } from '../jails/index.ts';
import { loadStoreModule } from '../store/load.ts';
import { withProcessLock } from '../store/process-lock.ts';
import type { TenantsStore } from '../store/tenants-store.ts';
import { openVault, type Vault } from '../vault/index.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
  json: boolean;
  config: string | undefined;
}

/** Strict flags: an unknown flag or a missing value is a usage error (exit 2), echoing no value. */
export function parseFlags(argv: string[], options: Options = {}, maxPositionals = 1): Parsed {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...GLOBAL_FLAGS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'bad arguments';
    throw usageError(`bad arguments (${code})`, err);
  }
  if (parsed.positionals.length > maxPositionals) throw usageError('too many arguments');
  const values = parsed.values as Record<string, string | boolean | undefined>;
  return {
    positionals: parsed.positionals,
    values,
    json: values.json === true,
    config: typeof values.config === 'string' ? values.config : undefined,
  };
}

/** The tenant argument, or a usage error that does not echo the (possibly hostile) input. */
export function tenantArg(value: string | undefined): string {
  if (value === undefined) throw usageError('missing tenant name');
  const parsed = TenantName.safeParse(value);
  if (!parsed.success) throw usageError('tenant name must match ^[a-z0-9][a-z0-9-]{0,62}$');
  return parsed.data;
}

/** How long a command waits for another live command on the same tenant (as before: ~5 min). */
export const TENANT_LOCK_WAIT_MS = 300_000;

export const nowIso = (): string => new Date().toISOString();

export class HostContext {
  readonly config: HostConfig;
  readonly io: CommandIO;
  readonly json: boolean;
  #store: TenantsStore | undefined;
  #Store: typeof TenantsStore | undefined;
  #backend: JailBackend | undefined;
  #hive: HiveAdmin | undefined;

  constructor(parsed: Parsed, io: CommandIO) {
    // Everything the host creates (store, WAL, locks, temp files) is private to root.
    process.umask(0o077);
    this.io = io;
    this.json = parsed.json;
    this.config = loadConfig(parsed.config, io.env);
  }

  /** Loads node:sqlite (quietly) once the config is known to be good. */
  async prepare(): Promise<void> {
    this.#Store = (await loadStoreModule()).TenantsStore;
  }

  get store(): TenantsStore {
    if (!this.#Store) throw new Error('HostContext.prepare() was not awaited');
    this.#store ??= new this.#Store(this.config.store);
    return this.#store;
  }

  get backend(): JailBackend {
    this.#backend ??= createBackend(this.config.jails);
    return this.#backend;
  }

  get hive(): HiveAdmin {
    const h = this.config.hive;
    this.#hive ??= hiveAdmin(h.url, readAdminToken(h.adminTokenFile), h.timeoutMs, hiveTrustOf(h));
    return this.#hive;
  }

  vault(): Vault {
    const v = this.config.vault;
    return openVault({
      server: v.server,
      organization: v.organization,
      credentialsFile: v.credentialsFile,
      appdataDir: v.appdataDir,
      ...(v.bwBin ? { bwBin: v.bwBin } : {}),
      ...(v.timeoutMs ? { timeoutMs: v.timeoutMs } : {}),
      ...(v.extraCaCertsFile ? { extraCaCertsFile: v.extraCaCertsFile } : {}),
    });
  }

  /**
   * Serializes work on one tenant across processes and within one (two provisions must not mint
   * twice). The lock dies with its holder (store/process-lock.ts): a provision killed with -9 leaves
   * nothing that blocks the tenant; a live holder makes the next one wait up to `waitMs`, then fail.
   */
  async withTenantLock<T>(
    tenant: string,
    fn: () => Promise<T>,
    waitMs: number = TENANT_LOCK_WAIT_MS,
  ): Promise<T> {
    const file = path.join(path.dirname(this.config.store), 'locks', `${tenant}.lock`);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    return withProcessLock(file, { waitMs, pollMs: 500 }, fn, (err) => {
      return new HostError(`tenant ${tenant} is busy (lock not acquired)`, EXIT.failure, { cause: err });
    });
  }

  /** Prints `data` as one JSON line with --json, else the human lines. */
  print(data: unknown, human: string | string[]): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(data)}\n`);
    else this.io.stdout.write(`${(Array.isArray(human) ? human : [human]).join('\n')}\n`);
  }

  async close(): Promise<void> {
    this.#store?.close();
    await this.#hive?.close();
  }
}

/** Runs a command body with a context that is always closed. */
export async function withContext(
  parsed: Parsed,
  io: CommandIO,
  fn: (ctx: HostContext) => Promise<number>,
): Promise<number> {
  const ctx = new HostContext(parsed, io);
  try {
    await ctx.prepare();
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
