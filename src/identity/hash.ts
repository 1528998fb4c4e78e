// The identity hash (DESIGN §7): SHA-256 over the resolved soul as (layer, path, content) triples,
// each field length-prefixed (u32 big-endian byte count) after a version tag, in a fixed file order.
// Pure and platform-independent: the same soul gives the same hash on any machine.
import { createHash } from 'node:crypto';

const IDENTITY_HASH_TAG = 'clawdie-soul-v1';

export interface SoulEntry {
  layer: string;
  /** Path relative to the layer directory, with `/` separators. */
  path: string;
  content: Uint8Array;
}

function field(bytes: Uint8Array): Uint8Array[] {
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, bytes.length, false);
  return [len, bytes];
}

/** Entries are hashed in path order so the result does not depend on discovery order. */
export function identityHash(entries: readonly SoulEntry[]): string {
  const hash = createHash('sha256');
  const utf8 = new TextEncoder();
  hash.update(utf8.encode(IDENTITY_HASH_TAG));
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const e of sorted) {
    for (const part of [...field(utf8.encode(e.layer)), ...field(utf8.encode(e.path)), ...field(e.content)]) {
      hash.update(part);
    }
  }
  return hash.digest('hex');
}
