// openVault: the thin imperative shell around bw. A session is, under a cross-process lock on the
// appdata dir: `bw status` (server check) → `bw config server` only on first use → `bw login
// --apikey` (key by env) → `bw serve` on a private Unix socket → POST /unlock (password in the
// request body, never argv/env) → lists → POST /lock → stop serve → `bw logout`. Four bw processes
// per session whatever the number of tenants; nothing unlocked or logged in survives it.

import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../src/log.ts';
import { withProcessLock } from '../store/process-lock.ts';
import { makeSocketDir, prepareAppdata, reapLeftovers, servePidFile } from './appdata.ts';
import { type BwProcessEvent, type BwRunner, runBw } from './bw-process.ts';
import {
  type Credentials,
  parseVaultConfig,
  type ResolvedVaultConfig,
  readCredentials,
  type VaultConfig,
} from './config.ts';
import { VaultError } from './errors.ts';
import { startServe } from './serve.ts';
import { createSession, type VaultSession } from './session.ts';

export interface Vault {
  /** Makes bw's server vault.server if logged out; wrong_server if it is logged in to another. */
  checkServer(): Promise<void>;
  /** One login + unlock for `fn`, serialized with every other session on the same appdata dir. */
  withSession<T>(fn: (s: VaultSession) => Promise<T>): Promise<T>;
}

export interface VaultOptions {
  logger?: Logger;
  /** Called after every bw process ends (tests record start/end times from it). */
  onBwProcess?: (event: BwProcessEvent) => void;
}

const ReplySchema = z.object({
  success: z.boolean(),
  message: z.string().nullish(),
  data: z.unknown().optional(),
});
const StatusSchema = z.object({
  template: z.object({
    serverUrl: z.string().nullish(),
    status: z.enum(['unauthenticated', 'locked', 'unlocked']),
  }),
});
type BwStatus = z.infer<typeof StatusSchema>['template'];

const LOCK_POLL_MS = 250;
/** The appdata lock (store/process-lock.ts): released by the kernel when its holder dies. */
export const BW_LOCK_FILE = 'clawdie-bw-lock.db';
const trimUrl = (u: string | null | undefined): string => (u ?? '').replace(/\/+$/, '');

export function openVault(input: VaultConfig, options: VaultOptions = {}): Vault {
  const config: ResolvedVaultConfig = parseVaultConfig(input);
  const runner: BwRunner = {
    bin: config.bwBin,
    appdataDir: config.appdataDir,
    timeoutMs: config.timeoutMs,
    extraCaCertsFile: config.extraCaCertsFile,
    onProcess: options.onBwProcess,
  };
  const log = options.logger;

  /** Runs a bw command with --response and returns its parsed reply (success or not). */
  const bw = async (args: string[], env: Record<string, string> = {}, scrub = (s: string) => s) => {
    const res = await runBw(runner, [...args, '--response'], env);
    const parsed = ReplySchema.safeParse(safeJson(res.stdout));
    if (!parsed.success) {
      // stderr only: stdout may carry a session key
      const text = scrub(res.stderr.replace(/\s+/g, ' ').trim()).slice(0, 200);
      throw new VaultError(
        'bw_failed',
        `bw ${args[0]} exited ${res.code} without a reply: ${text || 'no output'}`,
      );
    }
    return { ...parsed.data, message: scrub(parsed.data.message ?? '') };
  };

  const status = async (): Promise<BwStatus> => {
    const reply = await bw(['status']);
    const parsed = StatusSchema.safeParse(reply.data);
    if (!reply.success || !parsed.success)
      throw new VaultError('bw_failed', `bw status failed: ${reply.message}`);
    return parsed.data.template;
  };

  const wrongServer = (actual: string): VaultError =>
    new VaultError(
      'wrong_server',
      `bw in ${config.appdataDir} is set to ${actual || 'the default server'}, not ${config.server}: fix vault.server or use another vault.appdataDir`,
    );

  /**
   * bw's server must be vault.server before any credential is sent. Logged out, a different (or
   * unset) server is simply set — the appdata dir is ours; logged in elsewhere, it is wrong_server:
   * someone else's login is not silently discarded.
   */
  const ensureServer = async (): Promise<BwStatus> => {
    const st = await status();
    if (trimUrl(st.serverUrl) === config.server) return st;
    if (st.status !== 'unauthenticated') throw wrongServer(trimUrl(st.serverUrl));
    const set = await bw(['config', 'server', config.server]);
    if (!set.success) throw new VaultError('bw_failed', `bw config server failed: ${set.message}`);
    return st;
  };

  /**
   * One holder per appdata dir at a time, across processes and within one. A holder killed with -9
   * frees the lock at once; what it left running (bw children, an unlocked serve) is reaped here,
   * under the lock, before anything else touches the dir.
   */
  const withLock = <T>(fn: () => Promise<T>): Promise<T> => {
    prepareAppdata(config.appdataDir);
    return withProcessLock(
      join(config.appdataDir, BW_LOCK_FILE),
      { waitMs: config.lockWaitMs, pollMs: LOCK_POLL_MS },
      () => {
        reapLeftovers(config.appdataDir);
        return fn();
      },
      (err) =>
        new VaultError(
          'timeout',
          `another process held the bw lock in ${config.appdataDir} for over ${config.lockWaitMs} ms`,
          { cause: err },
        ),
    );
  };

  const session = async <T>(fn: (s: VaultSession) => Promise<T>): Promise<T> => {
    const creds: Credentials = readCredentials(config.credentialsFile);
    const scrub = scrubber([creds.BW_CLIENTSECRET, creds.BW_PASSWORD]);
    const started = Date.now();
    const st = await ensureServer();
    if (st.status !== 'unauthenticated') await bw(['logout']); // left over from a crashed session
    let loggedIn = false;
    let serve: Awaited<ReturnType<typeof startServe>> | undefined;
    const socketDir = makeSocketDir(config.appdataDir);
    let s: ReturnType<typeof createSession> | undefined;
    try {
      const login = await bw(
        ['login', '--apikey'],
        { BW_CLIENTID: creds.BW_CLIENTID, BW_CLIENTSECRET: creds.BW_CLIENTSECRET },
        scrub,
      );
      if (!login.success) throw loginError(login.message, config);
      loggedIn = true;
      serve = await startServe(runner, socketDir);
      writeFileSync(servePidFile(config.appdataDir), `${serve.pid ?? ''}\n`, { mode: 0o600 });
      const unlock = await serve.call('POST', '/unlock', { password: creds.BW_PASSWORD });
      if (!unlock.success) {
        throw new VaultError(
          'unlock_failed',
          `the master password (BW_PASSWORD in ${config.credentialsFile}) did not unlock the vault: ${scrub(unlock.message ?? '')}`,
        );
      }
      log?.info({ event: 'vault.unlocked', ms: Date.now() - started }, 'vault unlocked');
      s = createSession(serve, config.organization, scrub);
      return await fn(s);
    } finally {
      s?.close();
      if (serve) {
        await serve.call('POST', '/lock').catch(() => undefined);
        await serve.stop();
        rmSync(servePidFile(config.appdataDir), { force: true });
      }
      if (loggedIn) await bw(['logout']).catch(() => undefined);
      rmSync(socketDir, { recursive: true, force: true });
      log?.info({ event: 'vault.session_end', ms: Date.now() - started }, 'vault locked and logged out');
    }
  };

  return {
    checkServer: () => withLock(async () => void (await ensureServer())),
    withSession: (fn) => withLock(() => session(fn)),
  };
}

function loginError(message: string, config: ResolvedVaultConfig): VaultError {
  if (/client_id or client_secret is incorrect|invalid_client/i.test(message)) {
    return new VaultError(
      'bad_credential',
      `the API key (BW_CLIENTID/BW_CLIENTSECRET in ${config.credentialsFile}) was refused by ${config.server}: it is wrong or revoked`,
    );
  }
  return new VaultError('bw_failed', `bw login failed against ${config.server}: ${message || 'no message'}`);
}

/** bw --response prints one JSON object; take the last line that parses (warnings may precede it). */
function safeJson(text: string): unknown {
  const lines = text.split('\n').filter((l) => l.trim().startsWith('{'));
  for (const line of lines.reverse()) {
    try {
      return JSON.parse(line);
    } catch {
      // not this line
    }
  }
  return undefined;
}

/** Replaces any occurrence of a known secret in text bw gave us (belt and braces: bw should not echo them). */
function scrubber(secrets: string[]): (s: string) => string {
  const live = secrets.filter((x) => x.length >= 4);
  return (s) => live.reduce((acc, secret) => acc.split(secret).join('[redacted]'), s);
}
