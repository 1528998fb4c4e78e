// Bearer tokens: 256 random bits, base64url; only their SHA-256 is stored or kept in memory, and
// hashes are compared with crypto.timingSafeEqual so a comparison takes the same time either way.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

export const mintToken = (): string => randomBytes(32).toString('base64url');

// One-shot crypto.hash: every request hashes its bearer token, and a Hash object per call costs more.
export const hashToken = (token: string): Buffer => hash('sha256', token, 'buffer');

export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer …` header, or null (malformed counts as missing). */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^Bearer ([A-Za-z0-9._~+/=-]{16,512})$/.exec(header);
  return m ? m[1]! : null;
}
