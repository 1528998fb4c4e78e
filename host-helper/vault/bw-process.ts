// Runs one bw process: a minimal environment built here (never a copy of process.env, so no
// unrelated secret is inherited), secrets only as named env entries, BW_NOINTERACTION always, its
// own process group killed on timeout (its pid recorded in the appdata dir while it runs, for the
// reaping after a crash), and stdout/stderr collected in memory. Also starts the long
// `bw serve` process of a session (same environment rules). Reports each process to a trace hook.
import { type ChildProcess, spawn } from 'node:child_process';
import { recordChild } from './appdata.ts';
import { VaultError } from './errors.ts';

export interface BwProcessEvent {
  pid: number;
  /** The bw subcommand (status, login, serve, logout, config…); never carries a secret. */
  command: string;
  start: number;
  end: number;
  exitCode: number | null;
}

export interface BwRunner {
  bin: string;
  appdataDir: string;
  timeoutMs: number;
  extraCaCertsFile?: string;
  onProcess?: (event: BwProcessEvent) => void;
}

export interface BwResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of every bw child: only what bw needs, plus the given (possibly secret) extras. */
export function bwEnv(runner: BwRunner, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: runner.appdataDir,
    LANG: 'C.UTF-8',
    BITWARDENCLI_APPDATA_DIR: runner.appdataDir,
    BW_NOINTERACTION: 'true',
    ...extra,
  };
  if (runner.extraCaCertsFile) env.NODE_EXTRA_CA_CERTS = runner.extraCaCertsFile;
  return env;
}

/** A bw path ending in .js runs under this Node (tests pin Node 24); anything else is exec'd as is. */
function commandLine(bin: string, args: readonly string[]): [string, string[]] {
  return bin.endsWith('.js') ? [process.execPath, [bin, ...args]] : [bin, [...args]];
}

export function spawnBw(
  runner: BwRunner,
  args: readonly string[],
  extraEnv: Record<string, string>,
): ChildProcess {
  const [file, argv] = commandLine(runner.bin, [...args, '--nointeraction']);
  const child = spawn(file, argv, {
    env: bwEnv(runner, extraEnv),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so a timeout kills bw and anything it started
  });
  // Outlives us if we are killed: recorded so the next lock holder reaps it (appdata.ts).
  if (child.pid !== undefined) child.once('close', recordChild(runner.appdataDir, child.pid));
  return child;
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

export function notInstalled(bin: string, cause: unknown): VaultError {
  return new VaultError(
    'not_installed',
    `bw could not be started from "${bin}": install @bitwarden/cli or set vault.bwBin`,
    {
      cause,
    },
  );
}

/** Runs `bw <args>` to completion within the runner's timeout. */
export function runBw(
  runner: BwRunner,
  args: readonly string[],
  extraEnv: Record<string, string> = {},
): Promise<BwResult> {
  const command = args[0] ?? '';
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const child = spawnBw(runner, args, extraEnv);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, runner.timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(notInstalled(runner.bin, e));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const end = Date.now();
      if (child.pid !== undefined)
        runner.onProcess?.({ pid: child.pid, command, start, end, exitCode: code });
      if (timedOut) {
        reject(
          new VaultError(
            'timeout',
            `bw ${command} did not finish within ${runner.timeoutMs} ms: check that vault.server answers`,
          ),
        );
        return;
      }
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}
