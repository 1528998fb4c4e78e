// V8 settings for the long-running agent process, applied by `runAgent` before its first request.
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
export const WASM_TIERING_BUDGET = 2_000_000_000;

export function tuneV8ForIdleAgent(): void {
  setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET}`);
}
