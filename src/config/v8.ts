// V8 settings for the long-running agent process, applied by `clawdie-agent run` (before its first
// request, and once it has settled in `running`).
// In: nothing. Out: V8 flags of this process (the bundle is one file started by rc.d, systemd or a
// test alike, so the setting lives here rather than in each launcher's command line).
import { setFlagsFromString } from 'node:v8';

/**
 * undici parses HTTP with llhttp compiled to WebAssembly. V8 compiles it with its baseline compiler
 * (Liftoff) and then, as heartbeats and polls run it, recompiles the hot functions with its
 * optimizing compiler in the background. Measured on an idle agent (one small response every few
 * seconds): that recompilation is ~60 % of its idle CPU and ~14 MiB of its RSS. A budget this large
 * (V8's default is 13,000,000) keeps the parser on Liftoff code, which is native code too. V8 reads
 * it when the module is compiled, at the first connection; a flag V8 no longer knows is ignored
 * with one line on stderr, never a failure.
 */
const WASM_TIERING_BUDGET = 2_000_000_000;

export function tuneV8ForIdleAgent(): void {
  setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`);
}

/** The GC options of V8's `gc` extension (src/extensions/gc-extension.cc). */
interface GcOptions {
  type: 'major';
  execution: 'sync';
  flavor: 'last-resort';
}

/**
 * Boot leaves V8's heap sized for boot: measured on an idle agent, the young generation grown to
 * 8 MiB by module set-up and the old generation holding boot-only garbage, ~5 MiB of RSS that V8
 * keeps for good in a process that then allocates little (its memory reducer never starts). One
 * memory-reducing collection (V8's "last resort" flavour: full GC, young generation shrunk, pages
 * released) once the agent has settled returns it. V8 offers it only through its `gc` extension:
 * exposed for one new context, taken, and unexposed again, so no code of ours or a dependency ever
 * sees a global `gc`. Returns false (and changes nothing) where that is not possible.
 */
export function settleHeap(): boolean {
  const { runInNewContext } = process.getBuiltinModule('node:vm') as typeof import('node:vm');
  let gc: unknown;
  try {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('typeof gc === "function" ? gc : undefined');
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  if (typeof gc !== 'function') return false;
  const options: GcOptions = { type: 'major', execution: 'sync', flavor: 'last-resort' };
  (gc as (o: GcOptions) => void)(options);
  return true;
}
