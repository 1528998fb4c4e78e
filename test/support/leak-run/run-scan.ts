// The run-wide leak scan itself (DESIGN §9): given a run directory (layout.ts) and the argv the
// global setup sampled from /proc, learn the run's secrets — the registry the workers filled from
// spawned processes' environments, the values of every `.env`/`bw.env`, the tokens of every host
// store, fixed canaries — then scan every capture, every file left in the temp tree or moved to the
// graveyard (SQLite files and their -wal/-shm included, as bytes), every link target and every
// argv. Returns the hits by place and kind, never a value, plus the figures for the summary line.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type Hit, LeakScanner, NOTHING } from '../leak-scan.ts';
import type { RunLayout } from './layout.ts';
import {
  allowanceOf,
  countTokenShaped,
  ENV_FILE,
  type Harvested,
  isBwAnswer,
  isGeneratedEnv,
  isHostStore,
  isPureDotenv,
  isTokenFile,
  secretsOfDotenv,
} from './policy.ts';

export interface RunScanInput {
  layout: RunLayout;
  /** Secrets known up front (fixture canaries) and harvested by the global setup (/proc environ). */
  secrets: readonly Harvested[];
  /** Distinct argv strings sampled from /proc (NUL-joined), scanned beside the recorded ones. */
  argvSamples: readonly string[];
}

export interface RunScanReport {
  hits: Hit[];
  /** Captured texts holding a word shaped like a hive token (43 random base64url characters). */
  tokenShaped: { where: string; count: number }[];
  places: number;
  bytes: number;
  secrets: number;
  argvSamples: number;
  files: number;
  /** ELF executables skipped (the node binary copied into jail roots: 124 MiB each). */
  binaries: number;
}

/** An ELF executable: copied programs, which no code of ours writes a secret into. */
function isExecutable(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(4);
    return fs.readSync(fd, head, 0, 4, 0) === 4 && head.equals(ELF);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
const ELF = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** Regular files under dir, depth first, never following a link nor leaving dir's filesystem. */
function* walk(dir: string, dev: number): Generator<{ file: string; link: boolean }> {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isSymbolicLink()) yield { file: p, link: true };
    else if (e.isDirectory()) {
      try {
        if (fs.lstatSync(p).dev !== dev) continue; // a mount point: not ours to read
      } catch {
        continue;
      }
      yield* walk(p, dev);
    } else if (e.isFile()) yield { file: p, link: false };
  }
}

function walkTree(root: string): Generator<{ file: string; link: boolean }> {
  let dev: number;
  try {
    dev = fs.lstatSync(root).dev;
  } catch {
    return (function* () {})();
  }
  return walk(root, dev);
}

/** Tokens of a host store copy (the file, its -wal and -shm, opened in a scratch dir). */
function tokensOfStore(dbFile: string): Harvested[] {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-store-'));
  try {
    for (const suffix of ['', '-wal', '-shm']) {
      try {
        fs.copyFileSync(dbFile + suffix, path.join(scratch, `s.db${suffix}`));
      } catch {}
    }
    const db = new DatabaseSync(path.join(scratch, 's.db'));
    try {
      const rows = db.prepare('SELECT token FROM hive_tokens').all() as { token: unknown }[];
      return rows
        .filter((r) => typeof r.token === 'string')
        .map((r) => ({ kind: 'tenant-token', value: r.token as string }));
    } finally {
      db.close();
    }
  } catch {
    return []; // not a store (an unrelated tenants.db), or unreadable: nothing to learn
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The token in a token file (`*.token`, `*-token`): the hive admin's when its name says admin,
 * else a tenant's (`clawdie-host mcp --token-file`, `mcp-token --out`). One line, or nothing.
 */
function tokenOfFile(file: string): Harvested[] {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    if (!/^[\x21-\x7e]{8,512}$/.test(text)) return [];
    return [{ kind: path.basename(file).includes('admin') ? 'hive-admin' : 'tenant-token', value: text }];
  } catch {
    return [];
  }
}

/** Every secret the run's files and registry reveal. */
export function harvest(layout: RunLayout): Harvested[] {
  const out: Harvested[] = [];
  for (const name of fs.existsSync(layout.registry) ? fs.readdirSync(layout.registry) : []) {
    for (const line of fs.readFileSync(path.join(layout.registry, name), 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const h = JSON.parse(line) as Harvested;
        if (typeof h.value === 'string' && typeof h.kind === 'string') out.push(h);
      } catch {} // a line cut by a killed worker
    }
  }
  for (const root of [layout.tmp, layout.grave]) {
    for (const { file, link } of walkTree(root)) {
      if (link) continue;
      const base = path.basename(file);
      if ((base === '.env' || base === 'bw.env') && !isGeneratedEnv(file)) {
        try {
          out.push(...secretsOfDotenv(fs.readFileSync(file, 'utf8'), file));
        } catch {}
      } else if (base === 'tenants.db' && isHostStore(file)) out.push(...tokensOfStore(file));
      else if (isTokenFile(file)) out.push(...tokenOfFile(file));
    }
  }
  return out;
}

/** A value with fewer distinct characters is a test's placeholder ('x' × 40), not a secret. */
const MIN_DISTINCT = 5;

/**
 * Files under the trees holding any secret, by one `grep -rlF` (Aho-Corasick in C: a run's
 * ~200 MB of PostgreSQL WAL and SQLite files take ~1 s instead of ~15 s of per-secret memmem);
 * the JS scanner then reads only these. A multi-line secret is looked for by its longest line
 * (a superset). undefined when grep cannot run: every file is then read.
 */
function candidates(layout: RunLayout, values: readonly string[]): Set<string> | undefined {
  const patterns = values.map((v) => v.split('\n').reduce((a, b) => (b.length > a.length ? b : a), ''));
  if (patterns.length === 0) return new Set();
  const file = path.join(layout.registry, 'patterns');
  fs.writeFileSync(file, `${patterns.join('\n')}\n`, { mode: 0o600 });
  const r = spawnSync(
    'grep',
    ['-rlFaZ', '-D', 'skip', '-f', file, layout.tmp, layout.grave, layout.capture],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (r.error || r.status === null || (r.status === 2 && r.stdout.length === 0)) return undefined;
  return new Set(r.stdout.toString('utf8').split('\0').filter(Boolean));
}

export function scanRun(input: RunScanInput): RunScanReport {
  const { layout } = input;
  const scan = new LeakScanner();
  for (const s of [...input.secrets, ...harvest(layout)]) {
    if (new Set(s.value).size >= MIN_DISTINCT) scan.secret(s.kind, s.value);
  }
  const hasAny = candidates(layout, [...new Set(scan.secrets.map((s) => s.value))]);
  const tokenShaped: RunScanReport['tokenShaped'] = [];
  let files = 0;
  let binaries = 0;
  let places = 0;
  let bytes = 0;
  for (const { file, link } of walkTree(layout.capture)) {
    if (link) continue;
    const data = fs.readFileSync(file);
    files += 1;
    places += 1;
    bytes += data.length;
    const bwAnswer = isBwAnswer(file);
    scan.buffer(path.relative(layout.root, file), data, bwAnswer ? allowanceOf(file) : NOTHING);
    const count = bwAnswer ? 0 : countTokenShaped(data.toString('latin1'));
    if (count > 0) tokenShaped.push({ where: path.relative(layout.root, file), count });
  }
  for (const root of [layout.tmp, layout.grave]) {
    for (const { file, link } of walkTree(root)) {
      const rel = path.relative(root, file);
      const where = path.relative(layout.root, file);
      places += 1;
      if (link) {
        try {
          scan.text(`link ${where}`, fs.readlinkSync(file));
        } catch {}
        continue;
      }
      if (isExecutable(file)) {
        binaries += 1;
        continue;
      }
      files += 1;
      if (hasAny && !hasAny.has(file)) {
        try {
          bytes += fs.lstatSync(file).size; // grep read it: no secret in it
        } catch {}
        continue;
      }
      let data: Buffer;
      try {
        data = fs.readFileSync(file);
      } catch {
        continue;
      }
      bytes += data.length;
      scan.buffer(where, data, isPureDotenv(data) ? [...allowanceOf(rel), ...ENV_FILE] : allowanceOf(rel));
    }
  }
  for (const [i, argv] of input.argvSamples.entries()) scan.text(`argv sampled from /proc (#${i})`, argv);
  places += input.argvSamples.length;
  return {
    hits: [...scan.hits()],
    tokenShaped,
    places,
    bytes,
    secrets: scan.stats.secrets,
    argvSamples: input.argvSamples.length,
    files,
    binaries,
  };
}

/** The one summary line, and the failure text naming each place and kind (never a value). */
export function summaryLine(r: RunScanReport, ms: number): string {
  const mb = (r.bytes / 1e6).toFixed(1);
  return `leak scan (whole run): ${r.places} places, ${mb} MB, ${r.argvSamples} argv samples, ${r.secrets} secrets, ${r.hits.length} hits, ${r.tokenShaped.length} token-shaped, ${r.binaries} executables skipped, ${ms} ms`;
}

export function failureText(r: RunScanReport): string | undefined {
  if (r.hits.length === 0 && r.tokenShaped.length === 0) return undefined;
  const lines = [
    ...r.hits.slice(0, 40).map((h) => `  ${h.kind} found in ${h.where}`),
    ...r.tokenShaped.slice(0, 20).map((t) => `  ${t.count} hive-token-shaped word(s) in ${t.where}`),
  ];
  return `leak scan (whole run): secrets where none may be (DESIGN §1, §9):\n${lines.join('\n')}`;
}
