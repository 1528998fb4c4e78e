// Who may read the live view (issue 19). The admin token never travels in a URL: `clawdie-host ui`
// asks (with the admin token) for a one-time code and prints a link carrying it in the fragment
// (`/ui#code=…`, which browsers never send to a server, so it lands in no access log); the page
// trades the code once, within a minute, for a read-only session token, kept in the tab's
// sessionStorage. An operator may paste the admin token instead: the page trades that the same way
// and keeps only the session token. Tokens and codes are random 256-bit values (codes in hex) held hashed, in this
// replica's memory, for a bounded number of sessions. Pure bookkeeping; time is injected.
import { createHash, randomBytes } from 'node:crypto';

export const CODE_SECONDS = 60;
export const SESSION_SECONDS = 8 * 3600;
const MAX_ENTRIES = 256;

const hash = (secret: string): string => createHash('sha256').update(secret).digest('base64url');
const fresh = (): string => randomBytes(32).toString('base64url');
/** Codes are printed: hex, so they never look like a hive token (43 base64url) in logs or scans. */
const freshCode = (): string => randomBytes(32).toString('hex');

export class UiSessions {
  readonly #now: () => number;
  /** hash → expiry (epoch ms). */
  readonly #codes = new Map<string, number>();
  readonly #sessions = new Map<string, number>();

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #prune(map: Map<string, number>): void {
    const now = this.#now();
    for (const [k, until] of map) if (until <= now) map.delete(k);
    // Oldest first (insertion order): a flood of codes or logins cannot grow memory without end.
    for (const k of map.keys()) {
      if (map.size < MAX_ENTRIES) break;
      map.delete(k);
    }
  }

  /** A one-time code for a link (the caller has checked the admin token). */
  issueCode(): { code: string; expiresInSeconds: number } {
    this.#prune(this.#codes);
    const code = freshCode();
    this.#codes.set(hash(code), this.#now() + CODE_SECONDS * 1000);
    return { code, expiresInSeconds: CODE_SECONDS };
  }

  /** Spends a code (once); null if unknown, used or expired. */
  redeemCode(code: string): { token: string; expiresAt: number } | null {
    const key = hash(code);
    const until = this.#codes.get(key);
    this.#codes.delete(key);
    if (until === undefined || until <= this.#now()) return null;
    return this.openSession();
  }

  /** A read-only session token (the caller has checked a code or the admin token). */
  openSession(): { token: string; expiresAt: number } {
    this.#prune(this.#sessions);
    const token = fresh();
    const expiresAt = this.#now() + SESSION_SECONDS * 1000;
    this.#sessions.set(hash(token), expiresAt);
    return { token, expiresAt };
  }

  valid(token: string | null): boolean {
    if (!token) return false;
    const until = this.#sessions.get(hash(token));
    return until !== undefined && until > this.#now();
  }
}
