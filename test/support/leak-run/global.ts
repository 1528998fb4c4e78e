// Vitest global setup of the run-wide leak scan (DESIGN §9), run once in vitest's main process.
// Setup: makes the run directory (layout.ts) and provides it to the workers (worker.ts points
// their TMPDIR at it and captures their spawns), tees everything vitest prints — reporter output,
// console logs and the workers' own stdout/stderr, which vitest pipes through this process, so
// also the output of children spawned with stdio 'inherit' — and samples the argv and environment
// of every descendant process from /proc (bw under clawdie-host included). Teardown: scans the
// whole run (run-scan.ts), prints one summary line and throws on any hit, which makes `vitest run`
// exit 1; the run directory is kept for inspection then, removed otherwise.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { DEFAULT_FIXTURE } from '../../../host-helper/demo/services/vault-server/fixture.ts';
import { RUN_KEY, runLayout } from './layout.ts';
import { type Harvested, kindOfEnvName, secretsOfEnv } from './policy.ts';
import { failureText, scanRun, summaryLine } from './run-scan.ts';

/** Where vitest.config.ts's onConsoleLog finds the console capture (same process, same global). */
export const CONSOLE_HOOK = Symbol.for('clawdie.leak-run.console');

/** The fixed canaries of the vault fixture: present in every run that starts a test vault. */
function fixtureCanaries(): Harvested[] {
  const out: Harvested[] = [
    { kind: 'bw-credential', value: DEFAULT_FIXTURE.user.password },
    { kind: 'bw-credential', value: DEFAULT_FIXTURE.user.clientSecret },
  ];
  for (const org of DEFAULT_FIXTURE.organizations ?? []) {
    for (const col of org.collections ?? []) {
      for (const item of col.items ?? []) {
        if (item.name === 'CLAWDIE_MODEL') continue; // configuration, logged by design
        const kind = kindOfEnvName(item.name) ?? 'vault-item';
        for (const v of [item.password, item.notes, ...(item.fields ?? []).map((f) => f.value)]) {
          if (v) out.push({ kind, value: v });
        }
      }
    }
  }
  return out;
}

function teeWrites(stream: NodeJS.WriteStream, file: string): () => void {
  const fd = fs.openSync(file, 'a', 0o600);
  const write = stream.write;
  stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    try {
      if (typeof chunk === 'string') fs.writeSync(fd, chunk);
      else if (chunk instanceof Uint8Array) fs.writeSync(fd, chunk);
    } catch {}
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof stream.write;
  return () => {
    stream.write = write;
    fs.closeSync(fd);
  };
}

/** Samples argv and environment secrets of this process's descendants from /proc. */
class ProcSampler {
  readonly argv = new Set<string>();
  readonly secrets: Harvested[] = [];
  readonly #seen = new Set<string>();
  readonly #timer: NodeJS.Timeout;

  constructor(ms: number) {
    this.#timer = setInterval(() => this.sample(), ms);
    this.#timer.unref();
  }

  sample(): void {
    const stack = [process.pid];
    for (let pid = stack.pop(); pid !== undefined; pid = stack.pop()) {
      let kids: string;
      try {
        kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const k of kids.split(' ')) if (k) stack.push(Number(k));
      if (pid === process.pid) continue;
      try {
        const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        this.argv.add(cmdline);
        const key = `${pid}\0${cmdline}`;
        if (this.#seen.has(key)) continue;
        this.#seen.add(key);
        const env: Record<string, string> = {};
        for (const kv of fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
          const eq = kv.indexOf('=');
          if (eq > 0 && kindOfEnvName(kv.slice(0, eq))) env[kv.slice(0, eq)] = kv.slice(eq + 1);
        }
        this.secrets.push(...secretsOfEnv(env));
      } catch {} // gone meanwhile
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.sample();
  }
}

/** True when something is mounted under dir (then it is left alone rather than removed). */
function hasMountUnder(dir: string): boolean {
  try {
    return fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((l) => (l.split(' ')[4] ?? '').startsWith(`${dir}/`));
  } catch {
    return true;
  }
}

export default function setup(project: TestProject): () => void {
  const realTmp = os.tmpdir();
  const layout = runLayout(fs.mkdtempSync(path.join(realTmp, 'cr-')));
  fs.chmodSync(layout.root, 0o755);
  // Like /tmp itself: tests hand temp dirs to jail users (setpriv, unshare) that must traverse it.
  fs.mkdirSync(layout.tmp, { mode: 0o1777 });
  fs.chmodSync(layout.tmp, 0o1777);
  fs.mkdirSync(layout.grave, { mode: 0o755 });
  fs.mkdirSync(layout.children, { recursive: true, mode: 0o700 });
  fs.mkdirSync(layout.registry, { mode: 0o700 });
  project.provide(RUN_KEY, layout.root);

  const untee = [
    teeWrites(process.stdout, path.join(layout.capture, 'vitest.out')),
    teeWrites(process.stderr, path.join(layout.capture, 'vitest.err')),
  ];
  const consoleFd = fs.openSync(path.join(layout.capture, 'console.log'), 'a', 0o600);
  (globalThis as Record<symbol, unknown>)[CONSOLE_HOOK] = (text: string) => {
    try {
      fs.writeSync(consoleFd, text);
    } catch {}
  };
  const sampler = new ProcSampler(250);

  return () => {
    const started = performance.now();
    sampler.stop();
    delete (globalThis as Record<symbol, unknown>)[CONSOLE_HOOK];
    fs.closeSync(consoleFd);
    for (const u of untee) u();
    const report = scanRun({
      layout,
      secrets: [...fixtureCanaries(), ...sampler.secrets],
      argvSamples: [...sampler.argv],
    });
    process.stdout.write(`${summaryLine(report, Math.round(performance.now() - started))}\n`);
    const failure = failureText(report);
    // Set here too: vitest's close timer (teardownTimeout) may exit before it records the throw.
    if (failure) process.exitCode = 1;
    if (failure) throw new Error(`${failure}\nrun directory kept for inspection: ${layout.root}`);
    const figures = path.join(layout.tmp, 'clawdie-chaos-figures');
    if (fs.existsSync(figures))
      fs.cpSync(figures, path.join(realTmp, 'clawdie-chaos-figures'), { recursive: true });
    if (process.env.CLAWDIE_LEAK_KEEP !== '1' && !hasMountUnder(layout.root)) {
      fs.rmSync(layout.root, { recursive: true, force: true });
    }
  };
}
