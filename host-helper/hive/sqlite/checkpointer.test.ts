// The background checkpointer on a real WAL database: the writing connection no longer checkpoints
// every 1000 pages, the worker moves committed pages into the database file, and after closing
// (worker first, then the writer) no WAL file is left behind; a worker that fails hands checkpoints
// back to the writer.
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Checkpointer } from './checkpointer.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clawdie-ckpt-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

it('checkpoints committed pages on its worker and leaves no WAL after closing', async () => {
  const path = join(dir, 'hive.db');
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; CREATE TABLE t (v TEXT)');
  const errors: string[] = [];
  const ckpt = new Checkpointer(db, path, (m) => errors.push(m));
  expect(db.prepare('PRAGMA wal_autocheckpoint').get()).toEqual({ wal_autocheckpoint: 10_000 });
  const before = statSync(path).size;
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  db.exec('BEGIN');
  for (let i = 0; i < 200; i++) insert.run('x'.repeat(1000));
  db.exec('COMMIT');
  ckpt.committed();
  // Still only in the WAL: nothing checkpointed on the writer's side.
  expect(statSync(path).size).toBe(before);
  await ckpt.now();
  expect(statSync(path).size).toBeGreaterThan(before + 150_000);
  await ckpt.close();
  await ckpt.now(); // after close: resolves at once, no worker left
  db.close();
  expect(existsSync(`${path}-wal`)).toBe(false);
  expect(errors).toEqual([]);
  const again = new DatabaseSync(path);
  expect(again.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 200 });
  again.close();
});

it('a worker that cannot open the database is reported, and the writer checkpoints itself again', async () => {
  const path = join(dir, 'hive.db');
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT)');
  const errors: string[] = [];
  // A directory where the worker expects the database file: its connection fails to open.
  const ckpt = new Checkpointer(db, dir, (m) => errors.push(m));
  await ckpt.now();
  expect(errors).toHaveLength(1);
  expect(db.prepare('PRAGMA wal_autocheckpoint').get()).toEqual({ wal_autocheckpoint: 1000 });
  ckpt.committed(); // no worker to cue: a no-op
  await ckpt.close();
  db.close();
});
