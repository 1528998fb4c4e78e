// Test support: the leak scanner (DESIGN §1, §9). A suite registers every secret it knows (with its
// kind and, for tenant values, the owning tenant), then feeds it captured output, spawned argv,
// files and whole trees; each place says which secrets it may legitimately hold. A hit anywhere
// else is recorded by place and kind — never by value — and assertClean() fails the suite.
//
//   const scan = new LeakScanner();
//   scan.secret('bw-credential', value);            // BW_CLIENTSECRET / BW_PASSWORD
//   scan.secret('tenant-token', token, 'acme');     // a tenant's hive token
//   scan.text('agent 3 stdout', out);               // nothing allowed
//   scan.tree(dir, (file) => ALLOW.none | [...])    // files incl. SQLite, -wal; 'skip' to skip
//   scan.assertClean();
//
// Files are searched as bytes (SQLite pages, WAL frames), without following links.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

export type SecretKind =
  /** BW_CLIENTSECRET, BW_PASSWORD: host bootstrap, only in bw.env and bw's own appdata. */
  | 'bw-credential'
  /** The hive admin token: host bootstrap, only in its 0600 token file. */
  | 'hive-admin'
  /** A tenant's hive token: that tenant's .env, the host store; the hive keeps only hashes. */
  | 'tenant-token'
  /** A value from a tenant's vault collection: that tenant's .env only. */
  | 'vault-item'
  /** A provider API key handed to an agent: its .env only. */
  | 'api-key';

export interface Secret {
  kind: SecretKind;
  value: string;
  /** The tenant a tenant-token / vault-item belongs to, when it belongs to one. */
  owner?: string;
}

/** What a place may hold: kinds, optionally only those of one tenant. */
export interface Allowance {
  kind: SecretKind;
  /** When set, only secrets of this owner (or without owner) are allowed. */
  owner?: string;
}

export interface Hit {
  where: string;
  kind: SecretKind;
  owner?: string;
}

export const NOTHING: Allowance[] = [];

/** Secrets shorter than this would match by accident; fixtures use longer ones. */
const MIN_SECRET = 8;

export class LeakScanner {
  readonly #secrets: Secret[] = [];
  readonly #hits: Hit[] = [];
  #scanned = 0;
  #bytes = 0;

  secret(kind: SecretKind, value: string, owner?: string): void {
    if (value.length < MIN_SECRET) return;
    if (this.#secrets.some((s) => s.value === value && s.kind === kind && s.owner === owner)) return;
    this.#secrets.push(owner === undefined ? { kind, value } : { kind, value, owner });
  }

  get secrets(): readonly Secret[] {
    return this.#secrets;
  }

  /** How many places (texts, argv, files) were scanned and how many bytes, for the report. */
  get stats(): { places: number; bytes: number; secrets: number } {
    return { places: this.#scanned, bytes: this.#bytes, secrets: this.#secrets.length };
  }

  static allowed(s: Secret, allow: readonly Allowance[]): boolean {
    return allow.some((a) => a.kind === s.kind && (a.owner === undefined || s.owner === a.owner));
  }

  buffer(where: string, data: Buffer, allow: readonly Allowance[] = NOTHING): Hit[] {
    this.#scanned += 1;
    this.#bytes += data.length;
    const found: Hit[] = [];
    for (const s of this.#secrets) {
      if (LeakScanner.allowed(s, allow)) continue;
      if (data.includes(s.value, 0, 'utf8')) {
        found.push(s.owner === undefined ? { where, kind: s.kind } : { where, kind: s.kind, owner: s.owner });
      }
    }
    this.#hits.push(...found);
    return found;
  }

  text(where: string, text: string, allow: readonly Allowance[] = NOTHING): Hit[] {
    return this.buffer(where, Buffer.from(text, 'utf8'), allow);
  }

  /** A spawned process's argv: no secret of any kind may ever be there. */
  argv(where: string, argv: readonly string[]): Hit[] {
    return this.text(`argv of ${where}`, argv.join('\0'));
  }

  file(file: string, allow: readonly Allowance[] = NOTHING): Hit[] {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch {
      return []; // vanished meanwhile (a temp file renamed away): nothing to scan
    }
    return this.buffer(file, data, allow);
  }

  /**
   * Every regular file under `dir` (links are not followed; a link's target string is scanned as
   * text). `policy` says per file what it may hold, or 'skip'.
   */
  tree(dir: string, policy: (file: string) => readonly Allowance[] | 'skip' = () => NOTHING): void {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) this.tree(p, policy);
      else if (e.isSymbolicLink()) {
        try {
          this.text(`link ${p}`, readlinkSync(p));
        } catch {}
      } else if (e.isFile()) {
        const allow = policy(p);
        if (allow !== 'skip') this.file(p, allow);
      }
    }
  }

  /**
   * argv of every live process descending from `ancestor` (default: this process), read from
   * /proc — so the children's children (bw under clawdie-host) are covered too.
   */
  procArgv(ancestor: number = process.pid): number {
    let pids: string[];
    try {
      pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
    } catch {
      return 0;
    }
    const parent = new Map<number, number>();
    for (const pid of pids) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        parent.set(Number(pid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      } catch {}
    }
    const descends = (pid: number): boolean => {
      for (let p = parent.get(pid), depth = 0; p !== undefined && p > 1 && depth < 64; depth += 1) {
        if (p === ancestor) return true;
        p = parent.get(p);
      }
      return false;
    };
    let seen = 0;
    for (const pid of parent.keys()) {
      if (!descends(pid)) continue;
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        this.text(`argv of pid ${pid}`, cmdline);
        seen += 1;
      } catch {}
    }
    return seen;
  }

  hits(): readonly Hit[] {
    return this.#hits;
  }

  /** Throws naming every place and kind that leaked (never the value). */
  assertClean(): void {
    if (this.#hits.length === 0) return;
    const lines = this.#hits
      .slice(0, 30)
      .map((h) => `${h.kind}${h.owner ? ` of ${h.owner}` : ''} found in ${h.where}`);
    throw new Error(`leak scan: ${this.#hits.length} hit(s):\n${lines.join('\n')}`);
  }
}

/**
 * Samples the argv of this process's descendants every `ms` until stopped (bw children of
 * clawdie-host, agents); returns the stop function, which answers how many argv were read.
 */
export function sampleArgv(scan: LeakScanner, ms = 100): () => number {
  let seen = 0;
  const timer = setInterval(() => {
    seen += scan.procArgv();
  }, ms);
  timer.unref();
  return () => {
    clearInterval(timer);
    return seen;
  };
}
