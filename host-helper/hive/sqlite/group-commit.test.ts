// Group commit on a real SQLite database: writes of one round share one COMMIT and settle only after
// it; a write that throws rejects alone (an atomic one undoes all of its statements); a group whose
// COMMIT fails rejects every write in it and tells the store to drop its caches; reads never see a
// queued write before it is committed.
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.ts';

let db: DatabaseSync;
let commits: number;
let rollbacks: number;
let gc: GroupCommit;
beforeEach(() => {
  db = new DatabaseSync(':memory:');
  db.exec(`PRAGMA foreign_keys = ON;
    CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
    CREATE TABLE child (id INTEGER PRIMARY KEY,
      parent INTEGER REFERENCES t(id) DEFERRABLE INITIALLY DEFERRED);`);
  commits = 0;
  rollbacks = 0;
  gc = new GroupCommit(db, { afterCommit: () => commits++, afterRollback: () => rollbacks++ });
});
afterEach(() => db.close());

const insert = (id: number) => () =>
  Number(db.prepare('INSERT INTO t (id, v) VALUES (?, ?)').run(id, 'x').changes);
const ids = () => (db.prepare('SELECT id FROM t ORDER BY id').all() as { id: number }[]).map((r) => r.id);

it('runs the writes of one round in order in one transaction, after which they resolve', async () => {
  const order: number[] = [];
  const logged = (id: number) => () => {
    order.push(id);
    return insert(id)();
  };
  const a = gc.run(logged(1));
  const b = gc.run(logged(2));
  // Queued, not run: a read now sees neither.
  expect(ids()).toEqual([]);
  expect(await Promise.all([a, b])).toEqual([1, 1]);
  expect(order).toEqual([1, 2]);
  expect(commits).toBe(1);
  expect(ids()).toEqual([1, 2]);
});

it('a write that throws rejects alone; the others of its group commit', async () => {
  await gc.run(insert(1));
  const results = await Promise.allSettled([gc.run(insert(2)), gc.run(insert(1)), gc.run(insert(3))]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(ids()).toEqual([1, 2, 3]);
});

it('an atomic write that throws undoes all of its statements', async () => {
  await gc.run(insert(1));
  const results = await Promise.allSettled([
    gc.run(() => {
      insert(5)();
      insert(1)(); // duplicate: the whole write goes, including id 5
    }, true),
    gc.run(insert(6)),
  ]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
  expect(ids()).toEqual([1, 6]);
});

it('a group whose COMMIT fails rejects every write in it and reports the rollback', async () => {
  const results = await Promise.allSettled([
    gc.run(insert(1)),
    // A deferred foreign key is only checked at COMMIT: the whole group fails there.
    gc.run(() => db.prepare('INSERT INTO child (id, parent) VALUES (1, 99)').run()),
  ]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  expect(rollbacks).toBe(1);
  expect(commits).toBe(0);
  expect(db.isTransaction).toBe(false);
  expect(ids()).toEqual([]);
  // The next group works normally.
  expect(await gc.run(insert(2))).toBe(1);
  expect(ids()).toEqual([2]);
});

it('flush() runs queued writes at once (before a close)', async () => {
  const a = gc.run(insert(7));
  gc.flush();
  expect(ids()).toEqual([7]);
  expect(await a).toBe(1);
  gc.flush(); // nothing queued: no transaction
  expect(commits).toBe(1);
});
