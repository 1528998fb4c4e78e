// Run-wide capture of every process a test worker spawns (DESIGN §9): wraps the functions of
// node:child_process so each spawn records its argv (<capture>/argv-<pid>.jsonl), registers the
// secrets of the environment it was given (<registry>/<pid>.jsonl) and tees its piped
// stdout/stderr into <capture>/p/<pid>-<n>-<cmd>.{out,err}.
//
// The tee must not change what the test sees: adding a 'data' listener would switch the stream to
// flowing mode and lose what a test reads later. Instead the stream's own push() is wrapped — the
// pipe handle hands every chunk to push() whether or not anyone reads — so the copy is made below
// the stream's buffering and the test's reads, pauses and encodings are untouched.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RunLayout } from './layout.ts';
import { secretsOfEnv } from './policy.ts';

type AnyFn = (...args: unknown[]) => unknown;

export class ChildCapture {
  readonly #layout: RunLayout;
  readonly #known = new Set<string>();
  readonly #hooked = new WeakSet<object>();
  #seq = 0;

  constructor(layout: RunLayout) {
    this.#layout = layout;
    fs.mkdirSync(layout.children, { recursive: true });
    fs.mkdirSync(layout.registry, { recursive: true, mode: 0o700 });
  }

  /** Records one spawn (argv, environment secrets); returns its capture file stem. */
  record(argv: readonly string[], env: unknown): string {
    this.#seq += 1;
    const cmd = commandLabel(argv);
    const stem = path.join(this.#layout.children, `${process.pid}-${this.#seq}-${cmd}`);
    fs.appendFileSync(
      path.join(this.#layout.capture, `argv-${process.pid}.jsonl`),
      `${JSON.stringify(argv)}\n`,
    );
    if (env && typeof env === 'object') {
      const lines: string[] = [];
      for (const s of secretsOfEnv(env as Record<string, string | undefined>)) {
        const key = `${s.kind}\0${s.value}`;
        if (this.#known.has(key)) continue;
        this.#known.add(key);
        lines.push(JSON.stringify(s));
      }
      if (lines.length > 0) {
        fs.appendFileSync(path.join(this.#layout.registry, `${process.pid}.jsonl`), `${lines.join('\n')}\n`, {
          mode: 0o600,
        });
      }
    }
    return stem;
  }

  /** Tees a child's piped stdout/stderr into `<stem>.out` / `<stem>.err` without consuming them. */
  hook(child: ChildProcess | undefined, stem: string): void {
    if (!child || this.#hooked.has(child)) return;
    this.#hooked.add(child);
    teeStream(child.stdout, `${stem}.out`);
    teeStream(child.stderr, `${stem}.err`);
  }

  /** Output a synchronous spawn returned (Buffers or strings; absent when not piped). */
  saveSync(stem: string, stdout: unknown, stderr: unknown): void {
    for (const [data, ext] of [
      [stdout, 'out'],
      [stderr, 'err'],
    ] as const) {
      if ((typeof data === 'string' || Buffer.isBuffer(data)) && data.length > 0) {
        fs.writeFileSync(`${stem}.${ext}`, data);
      }
    }
  }
}

/** A short name for the capture file: the program, or the script node runs (`bw` for bw.js). */
export function commandLabel(argv: readonly string[]): string {
  const base = (p: string | undefined) => path.basename(p ?? 'x');
  let name = base(argv[0]);
  if (/^node(js)?$/.test(name) && argv[1] && !argv[1].startsWith('-')) name = base(argv[1]);
  if (name === 'bw.js') name = 'bw';
  return name.replace(/[^\w.-]/g, '_').slice(0, 24);
}

function teeStream(stream: NodeJS.ReadableStream | null | undefined, file: string): void {
  if (!stream) return;
  const s = stream as NodeJS.ReadableStream & { push: (chunk: unknown, enc?: BufferEncoding) => boolean };
  const push = s.push;
  let fd: number | undefined;
  s.push = function (this: unknown, chunk: unknown, enc?: BufferEncoding): boolean {
    try {
      if (chunk === null) {
        if (fd !== undefined) fs.closeSync(fd);
        fd = undefined;
      } else if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) {
        fd ??= fs.openSync(file, 'a');
        fs.writeSync(fd, typeof chunk === 'string' ? Buffer.from(chunk, enc) : chunk);
      }
    } catch {} // the capture must never break the test's stream
    return push.call(this, chunk, enc);
  };
}

/** The argv a child_process call runs, and the options object it was given. */
export function argvOf(
  name: string,
  args: readonly unknown[],
): { argv: string[]; options: Record<string, unknown> } {
  const rest = args.slice(1);
  const list = Array.isArray(rest[0]) ? (rest[0] as unknown[]).map(String) : [];
  const options = (rest.find((a) => a !== null && typeof a === 'object' && !Array.isArray(a)) ??
    {}) as Record<string, unknown>;
  const first = String(args[0]);
  if (name === 'exec' || name === 'execSync') return { argv: ['/bin/sh', '-c', first], options };
  if (name === 'fork') return { argv: [process.execPath, first, ...list], options };
  return { argv: [first, ...list], options };
}

const ASYNC = ['spawn', 'execFile', 'exec', 'fork'] as const;
const SYNC = ['spawnSync', 'execFileSync', 'execSync'] as const;

/** Replaces the functions on node:child_process's exports object (the caller syncs ESM exports). */
export function wrapChildProcess(cp: Record<string, unknown>, capture: ChildCapture): void {
  for (const name of ASYNC) {
    const orig = cp[name] as AnyFn;
    const wrapped = function (this: unknown, ...args: unknown[]) {
      const { argv, options } = argvOf(name, args);
      const stem = capture.record(argv, options.env);
      const child = orig.apply(this, args) as ChildProcess;
      capture.hook(child, stem);
      return child;
    };
    // promisify(execFile) resolves {stdout, stderr} through this hook: keep it, with the capture.
    const custom = (orig as unknown as Record<symbol, AnyFn | undefined>)[promisify.custom];
    if (custom) {
      Object.defineProperty(wrapped, promisify.custom, {
        value: (...args: unknown[]) => {
          const { argv, options } = argvOf(name, args);
          const stem = capture.record(argv, options.env);
          const p = custom(...args) as Promise<unknown> & { child?: ChildProcess };
          capture.hook(p.child, stem);
          return p;
        },
      });
    }
    cp[name] = wrapped;
  }
  for (const name of SYNC) {
    const orig = cp[name] as AnyFn;
    cp[name] = function (this: unknown, ...args: unknown[]) {
      const { argv, options } = argvOf(name, args);
      const stem = capture.record(argv, options.env);
      try {
        const r = orig.apply(this, args);
        if (name === 'spawnSync') {
          const sr = r as { stdout?: unknown; stderr?: unknown };
          capture.saveSync(stem, sr.stdout, sr.stderr);
        } else capture.saveSync(stem, r, undefined);
        return r;
      } catch (err) {
        const e = err as { stdout?: unknown; stderr?: unknown };
        capture.saveSync(stem, e.stdout, e.stderr);
        throw err;
      }
    };
  }
}
