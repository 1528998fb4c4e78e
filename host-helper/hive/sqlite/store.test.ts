// The SQLite store on real files: migrations are versioned and re-runnable, state survives reopening,
// token replacement invalidates the old hash (even through the lookup cache), a drain request
// survives the agent being lost, and idempotency keys are per tenant.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashToken } from '../tokens.ts';
import { MIGRATIONS } from './schema.ts';
import { SqliteHiveStore } from './store.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clawdie-store-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const reg = {
  agentId: 'a1',
  tenant: 'acme',
  capabilities: ['echo'],
  identityHash: 'a'.repeat(64),
  version: '1',
  os: 'x',
};

describe('SqliteHiveStore', () => {
  it('migrates to the latest user_version once, and keeps data across reopening', async () => {
    const path = join(dir, 'hive.db');
    const s1 = new SqliteHiveStore(path);
    await s1.insertTask(
      { taskId: 't1', tenant: 'acme', capability: 'echo', inputJson: '{"a":1}', expiresAt: 10_000 },
      1,
    );
    await s1.close();
    const s2 = new SqliteHiveStore(path);
    expect((await s2.getTask('t1'))?.state).toBe('queued');
    const lessee = { agentId: 'a1', tenant: 'acme', shared: false, capabilities: ['echo'] };
    expect((await s2.leaseNext(lessee, 2, 100))?.inputJson).toBe('{"a":1}');
    await s2.close();
    const db = new DatabaseSync(path);
    expect(db.prepare('PRAGMA user_version').get()).toEqual({ user_version: MIGRATIONS.length });
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    db.close();
  });

  it('cancels a queued task (never leased, the queued count kept) and a leased one (its agent told until the lease ends)', async () => {
    const s = new SqliteHiveStore(':memory:');
    const task = (taskId: string) => ({
      taskId,
      tenant: 'acme',
      capability: 'echo',
      inputJson: '1',
      expiresAt: 10_000,
    });
    await s.insertTask(task('q'), 1);
    await s.insertTask(task('l'), 2);
    const lessee = { agentId: 'a1', tenant: 'acme', shared: false, capabilities: ['echo'] };
    expect((await s.leaseNext(lessee, 3, 500))?.taskId).toBe('q');
    // Leased 'q' (cached lease), queued 'l': cancel both.
    expect(await s.cancelTask('l', 4)).toEqual({
      taskId: 'l',
      tenant: 'acme',
      capability: 'echo',
      leaseAgent: null,
    });
    expect(s.queuedCount).toBe(0);
    expect(await s.leaseNext(lessee, 5, 500)).toBeNull();
    expect(await s.cancelTask('q', 6)).toMatchObject({ taskId: 'q', leaseAgent: 'a1' });
    expect((await s.getTask('q'))?.state).toBe('cancelled');
    expect(await s.cancelTask('q', 7)).toBeNull();
    expect(await s.cancelledLeases('a1', 499)).toEqual(['q']);
    expect(await s.cancelledLeases('a1', 500)).toEqual([]);
    expect(await s.cancelledLeases('a2', 100)).toEqual([]);
    // The sweeps leave cancelled tasks alone.
    expect(await s.expireLeases(1_000)).toEqual([]);
    expect(await s.expireQueued(20_000)).toEqual([]);
    expect((await s.nextDeadlines()).lease).toBeNull();
    await s.close();
  });

  it('renews only the live leases the agent holds, and its cached copy with them', async () => {
    const s = new SqliteHiveStore(':memory:');
    const task = (taskId: string) => ({
      taskId,
      tenant: 'acme',
      capability: 'echo',
      inputJson: '1',
      expiresAt: 10_000,
    });
    await s.insertTask(task('mine'), 1);
    await s.insertTask(task('theirs'), 2);
    await s.insertTask(task('queued'), 3);
    const lessee = (agentId: string) => ({ agentId, tenant: 'acme', shared: false, capabilities: ['echo'] });
    expect((await s.leaseNext(lessee('a1'), 4, 500))?.taskId).toBe('mine');
    expect((await s.leaseNext(lessee('a2'), 5, 500))?.taskId).toBe('theirs');
    expect(await s.renewLeases('a1', ['mine', 'theirs', 'queued', 'unknown'], 400, 900)).toEqual(['mine']);
    // The read a result post makes sees the new expiry (the cached lease was replaced).
    expect((await s.getTask('mine'))?.leaseExpires).toBe(900);
    expect((await s.getTask('theirs'))?.leaseExpires).toBe(500);
    // Never shortened; a run-out lease is the sweep's, not revived.
    expect(await s.renewLeases('a1', ['mine'], 450, 700)).toEqual(['mine']);
    expect((await s.getTask('mine'))?.leaseExpires).toBe(900);
    expect(await s.renewLeases('a2', ['theirs'], 500, 1_000)).toEqual([]);
    expect((await s.expireLeases(600)).map((r) => r.taskId)).toEqual(['theirs']);
    expect(await s.expireLeases(899)).toEqual([]);
    expect(await s.complete('mine', 'a1', 'ok', '1', 899)).toBe(true);
    expect(await s.renewLeases('a1', ['mine'], 899, 1_500)).toEqual([]);
    await s.close();
  });

  it('replacing a token makes the old hash unknown, also after it was looked up', async () => {
    const s = new SqliteHiveStore(':memory:');
    await s.setTenantToken('acme', hashToken('old-token-0000000000'), false, 1);
    expect((await s.tenantByTokenHash(hashToken('old-token-0000000000')))?.tenant).toBe('acme');
    await s.setTenantToken('acme', hashToken('new-token-0000000000'), true, 2);
    expect(await s.tenantByTokenHash(hashToken('old-token-0000000000'))).toBeNull();
    expect(await s.tenantByTokenHash(hashToken('new-token-0000000000'))).toMatchObject({
      tenant: 'acme',
      shared: true,
    });
    expect(await s.revokeTenantToken('acme', 3)).toBe(true);
    expect(await s.tenantByTokenHash(hashToken('new-token-0000000000'))).toBeNull();
    expect(await s.revokeTenantToken('acme', 4)).toBe(false);
    await s.close();
  });

  it('a drained agent that is lost comes back draining; re-registering clears the drain', async () => {
    const s = new SqliteHiveStore(':memory:');
    await s.upsertAgent(reg, 1000);
    await s.setAgentState('a1', 'draining');
    expect((await s.markLost(1000, 5000)).agents).toEqual(['a1']);
    expect((await s.heartbeat('a1', 6000))?.state).toBe('draining');
    await s.upsertAgent(reg, 7000);
    expect((await s.getAgent('a1'))?.state).toBe('live');
    expect((await s.markLost(6999, 8000)).agents).toEqual([]);
    await s.close();
  });

  it('losing or deregistering an agent requeues its leases; expired TTLs end as expired', async () => {
    const s = new SqliteHiveStore(':memory:');
    await s.upsertAgent(reg, 0);
    const lessee = { agentId: 'a1', tenant: 'acme', shared: false, capabilities: ['echo'] };
    await s.insertTask(
      { taskId: 'keep', tenant: 'acme', capability: 'echo', inputJson: '1', expiresAt: 100_000 },
      0,
    );
    await s.insertTask(
      { taskId: 'old', tenant: 'acme', capability: 'echo', inputJson: '1', expiresAt: 50 },
      0,
    );
    expect((await s.leaseNext(lessee, 1, 60_000))?.taskId).toBe('keep');
    expect((await s.leaseNext(lessee, 1, 60_000))?.taskId).toBe('old');
    const lost = await s.markLost(10, 100);
    expect(lost.requeued.map((r) => [r.taskId, r.state]).sort()).toEqual([
      ['keep', 'queued'],
      ['old', 'expired'],
    ]);
    expect(await s.complete('keep', 'a1', 'ok', 'null', 101)).toBe(false);
    await s.upsertAgent(reg, 200);
    expect((await s.leaseNext(lessee, 200, 60_000))?.taskId).toBe('keep');
    expect((await s.deregister('a1', 300)).map((r) => r.taskId)).toEqual(['keep']);
    expect((await s.getTask('keep'))?.state).toBe('queued');
    await s.close();
  });

  it('an idempotency key returns the first task of the same tenant only', async () => {
    const s = new SqliteHiveStore(':memory:');
    const t = { capability: 'echo', inputJson: '1', expiresAt: 1000, idempotencyKey: 'k' };
    expect(await s.insertTask({ ...t, taskId: 'x1', tenant: 'acme' }, 0)).toEqual({
      taskId: 'x1',
      created: true,
    });
    expect(await s.insertTask({ ...t, taskId: 'x2', tenant: 'acme' }, 0)).toEqual({
      taskId: 'x1',
      created: false,
    });
    expect(await s.insertTask({ ...t, taskId: 'x3', tenant: 'beta' }, 0)).toEqual({
      taskId: 'x3',
      created: true,
    });
    await s.close();
  });
});
