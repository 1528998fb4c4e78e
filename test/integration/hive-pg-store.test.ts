// The PostgreSQL hive store against a real server, with several store instances standing in for
// coordinator replicas: migrations run once when replicas start together and refuse a newer schema;
// concurrent leases never hand a task out twice (SKIP LOCKED); sweeps run on every replica at once
// end each lease and lose each agent exactly once; a replaced token stops working on every replica
// at once (no cache); changes are announced to the other replicas, never back to their author.
// Also `hive serve --db postgres://…` usage checks, as a real process.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../host-helper/hive/pg/schema.ts';
import { PgHiveStore } from '../../host-helper/hive/pg/store.ts';
import type { StoreEvent } from '../../host-helper/hive/store/store.ts';
import { hashToken } from '../../host-helper/hive/tokens.ts';
import { echoAgent } from '../support/hive-fixtures.ts';
import { nodeBinary, REPO_ROOT } from '../support/hive-process.ts';
import { startPostgres } from '../support/postgres.ts';

const server = await startPostgres();
const skip = 'skip' in server ? server.skip : null;
if (skip) process.stderr.write(`hive-pg-store skipped: ${skip}\n`);

const lessee = (agentId: string) => ({ agentId, tenant: 'acme', shared: false, capabilities: ['echo'] });
const task = (taskId: string, expiresAt = Date.now() + 600_000) => ({
  taskId,
  tenant: 'acme',
  capability: 'echo',
  inputJson: '{}',
  expiresAt,
});

/** `n` store instances (replicas) over a fresh database. */
async function replicas(n: number): Promise<{ url: string; stores: PgHiveStore[] }> {
  if ('skip' in server) throw new Error('unreachable');
  const url = await server.createDatabase();
  return { url, stores: await Promise.all(Array.from({ length: n }, () => PgHiveStore.open(url))) };
}

const closeAll = (stores: PgHiveStore[]) => Promise.all(stores.map((s) => s.close()));

async function waitFor<T>(probe: () => T | undefined, what: string): Promise<T> {
  const end = Date.now() + 10_000;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

afterAll(async () => {
  if (!('skip' in server)) await server.stop();
});

describe.skipIf(skip !== null)('PgHiveStore on a real server', () => {
  it('migrates once when three replicas start together, reopens, and refuses a newer schema', async () => {
    const { url, stores } = await replicas(3);
    await closeAll(stores);
    const again = await PgHiveStore.open(url);
    await again.close();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const rows = (await c.query('SELECT version FROM hive_schema_migrations ORDER BY version')).rows;
      expect(rows).toEqual(MIGRATIONS.map((_, i) => ({ version: i + 1 })));
      await c.query('INSERT INTO hive_schema_migrations (version) VALUES (99)');
    } finally {
      await c.end();
    }
    await expect(PgHiveStore.open(url)).rejects.toThrow(/version 99, newer than this coordinator/);
  });

  it('hands every task out once to many concurrent lessees on three replicas', async () => {
    const { stores } = await replicas(3);
    try {
      const ids = Array.from({ length: 240 }, (_, i) => `t${i}`);
      for (const id of ids) await stores[0]!.insertTask(task(id), Date.now());
      const leased: string[] = [];
      const loop = async (store: PgHiveStore, agent: string): Promise<void> => {
        for (;;) {
          const t = await store.leaseNext(lessee(agent), Date.now(), Date.now() + 60_000);
          if (!t) return;
          leased.push(t.taskId);
        }
      };
      await Promise.all(stores.flatMap((s, i) => Array.from({ length: 6 }, (_, j) => loop(s, `a${i}-${j}`))));
      expect(leased.length).toBe(ids.length);
      expect(new Set(leased)).toEqual(new Set(ids));
    } finally {
      await closeAll(stores);
    }
  });

  it('sweeps on every replica at once end each lease and lose each agent exactly once', async () => {
    const { stores } = await replicas(3);
    const [a] = stores as [PgHiveStore];
    try {
      const t0 = Date.now();
      // 60 leases that end at t0 + 1, held by live agents; 12 agents gone quiet, holding one each.
      for (let i = 0; i < 60; i++) {
        await a.insertTask(
          { ...task(`e${i}`), lease: { agentId: 'busy', tenant: 'acme', expires: t0 + 1 } },
          t0,
        );
      }
      for (let i = 0; i < 12; i++) {
        await a.upsertAgent(echoAgent(`quiet${i}`), t0 - 60_000);
        await a.insertTask(
          { ...task(`q${i}`), lease: { agentId: `quiet${i}`, tenant: 'acme', expires: t0 + 600_000 } },
          t0,
        );
      }
      const ended = (await Promise.all(stores.map((s) => s.expireLeases(t0 + 10)))).flat();
      expect(ended.map((r) => r.taskId).sort()).toEqual(Array.from({ length: 60 }, (_, i) => `e${i}`).sort());
      expect(ended.every((r) => r.state === 'queued')).toBe(true);
      const lost = await Promise.all(stores.map((s) => s.markLost(t0 - 30_000, t0 + 10)));
      expect(lost.flatMap((l) => l.agents).sort()).toEqual(
        Array.from({ length: 12 }, (_, i) => `quiet${i}`).sort(),
      );
      expect(lost.flatMap((l) => l.requeued.map((r) => r.taskId)).sort()).toEqual(
        Array.from({ length: 12 }, (_, i) => `q${i}`).sort(),
      );
      // Running them again finds nothing left to do.
      expect(await a.expireLeases(t0 + 20)).toEqual([]);
      expect((await a.markLost(t0 - 30_000, t0 + 20)).agents).toEqual([]);
      expect((await a.getAgent('quiet0'))?.state).toBe('lost');
    } finally {
      await closeAll(stores);
    }
  });

  it('a replaced or revoked token stops working on every replica at once', async () => {
    const { stores } = await replicas(2);
    const [a, b] = stores as [PgHiveStore, PgHiveStore];
    try {
      const [old, next] = [hashToken('old-token-0000000000'), hashToken('new-token-0000000000')];
      await a.setTenantToken('acme', old, false, 1);
      expect((await b.tenantByTokenHash(old))?.tenant).toBe('acme');
      await a.setTenantToken('acme', next, true, 2);
      expect(await b.tenantByTokenHash(old)).toBeNull();
      expect(await b.tenantByTokenHash(next)).toMatchObject({ tenant: 'acme', shared: true });
      expect(await a.revokeTenantToken('acme', 3)).toBe(true);
      expect(await b.tenantByTokenHash(next)).toBeNull();
      expect(await b.revokeTenantToken('acme', 4)).toBe(false);
    } finally {
      await closeAll(stores);
    }
  });

  it('announces changes to the other replicas after commit, never to their author', async () => {
    const { stores } = await replicas(2);
    const [a, b] = stores as [PgHiveStore, PgHiveStore];
    const [atA, atB]: [StoreEvent[], StoreEvent[]] = [[], []];
    a.subscribe((e) => atA.push(e));
    b.subscribe((e) => atB.push(e));
    const seen = (pred: (e: StoreEvent) => boolean, what: string) => waitFor(() => atB.find(pred), what);
    try {
      const now = Date.now();
      await a.upsertAgent(echoAgent('w1'), now);
      await seen((e) => e.kind === 'agent' && e.agentId === 'w1' && e.live, 'registration');
      await a.insertTask(task('n1', now + 5000), now);
      expect(await seen((e) => e.kind === 'task' && e.taskId === 'n1', 'queued task')).toEqual({
        kind: 'task',
        taskId: 'n1',
        tenant: 'acme',
        capability: 'echo',
        queued: true,
        deadline: now + 5000,
      });
      await a.insertTask(
        { ...task('n2'), lease: { agentId: 'w1', tenant: 'acme', expires: now + 3000 } },
        now,
      );
      expect(await seen((e) => e.kind === 'task' && e.taskId === 'n2', 'leased task')).toMatchObject({
        queued: false,
        deadline: now + 3000,
      });
      expect(await a.release('n2', 'w1', now + 1)).toMatchObject({ state: 'queued' });
      await seen((e) => e.kind === 'task' && e.taskId === 'n2' && e.queued, 'released task');
      await a.setAgentState('w1', 'draining');
      await seen((e) => e.kind === 'agent' && e.agentId === 'w1' && !e.live, 'drain');
      await a.setTenantToken('acme', hashToken('some-token-000000000'), false, now);
      await seen((e) => e.kind === 'tenant' && e.tenant === 'acme', 'token change');
      // Nothing came back to the author, and an idempotent repeat announces nothing new.
      const before = atB.length;
      await a.insertTask({ ...task('n3'), idempotencyKey: 'k' }, now);
      await a.insertTask({ ...task('n4'), idempotencyKey: 'k' }, now);
      await seen((e) => e.kind === 'task' && e.taskId === 'n3', 'keyed task');
      await b.upsertAgent(echoAgent('w2'), now);
      await waitFor(() => atA.find((e) => e.kind === 'agent' && e.agentId === 'w2'), 'b → a');
      expect(atA.every((e) => e.kind === 'agent' && e.agentId === 'w2')).toBe(true);
      expect(
        atB
          .slice(before)
          .filter((e) => e.kind === 'task')
          .map((e) => (e as { taskId: string }).taskId),
      ).toEqual(['n3']);
    } finally {
      await closeAll(stores);
    }
  });

  it('listens again after its event connection is cut, and asks for a resync (events were missed)', async () => {
    const { url, stores } = await replicas(2);
    const [a, b] = stores as [PgHiveStore, PgHiveStore];
    const atB: StoreEvent[] = [];
    b.subscribe((e) => atB.push(e));
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const cut = await c.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'clawdie-hive-listen' AND datname = current_database()`,
      );
      expect(cut.rowCount).toBe(2);
      await waitFor(() => atB.find((e) => e.kind === 'resync'), 'resync');
      await a.insertTask(task('after-cut'), Date.now());
      await waitFor(
        () => atB.find((e) => e.kind === 'task' && e.taskId === 'after-cut'),
        'event after reconnecting',
      );
    } finally {
      await c.end();
      await closeAll(stores);
    }
  });
});

// A random admin token: a constant like 'x'.repeat(40) also occurs in unrelated test data (the
// run-wide leak scan would report it found there).
const ADMIN_TOKEN = randomBytes(24).toString('base64url');

/** Runs `clawdie-host hive serve` with the given flags; resolves to its exit code and stderr. */
function serve(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(
    nodeBinary(),
    ['host-helper/cli.ts', 'hive', 'serve', '--listen', '127.0.0.1:0', ...args],
    {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', CLAWDIE_HIVE_ADMIN_TOKEN: ADMIN_TOKEN, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

describe('hive serve --db postgres://… refusals', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clawdie-pgpolicy-'));
    const policy = { enabled: true, executor: { command: ['/bin/true'] } };
    await writeFile(join(dir, 'policy.json'), JSON.stringify(policy), { mode: 0o600 });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses a password in the URL (argv) without echoing it: exit 2', async () => {
    const r = await serve(['--db', 'postgres://hive:s3cret-pw@127.0.0.1:1/hive']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--db must not contain a password.*PGPASSWORD/);
    expect(r.stderr).not.toContain('s3cret-pw');
  });

  it('refuses an enabled spawn policy (its lineage lives in SQLite): exit 2', async () => {
    const r = await serve([
      '--db',
      'postgres://hive@127.0.0.1:1/hive',
      '--spawn-policy-file',
      join(dir, 'policy.json'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--spawn-policy-file needs a SQLite --db');
  });

  it('an unreachable database is a failure naming host and database only: exit 1', async () => {
    const r = await serve(['--db', 'postgres://hive@127.0.0.1:1/hivedb']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot open postgres://127.0.0.1:1/hivedb');
  });
});
