// The SQLite connection under the hive store and its write path: opens the file (WAL journal, busy
// timeout, synchronous level, foreign keys), brings the schema up through PRAGMA user_version
// (schema.ts), prepares each statement once, runs writes through the group commit
// (group-commit.ts: those of one event-loop round share a transaction) and checkpoints on a
// worker thread (checkpointer.ts). In: a path and options; out: prepared statements, write
// promises that resolve once committed, close. What the rows mean is the store's (store.ts).
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { applyMigrations } from '../../store/sqlite-tx.ts';
import { Checkpointer } from './checkpointer.ts';
import { GroupCommit } from './group-commit.ts';
import { MIGRATIONS } from './schema.ts';

export interface SqliteStoreOptions {
  synchronous?: 'normal' | 'full';
  /** Told when a background checkpoint failed (default: one line on stderr). */
  onCheckpointError?: (message: string) => void;
}

export class SqliteDb {
  readonly #db: DatabaseSync;
  readonly #stmts = new Map<string, StatementSync>();
  readonly #writes: GroupCommit;
  readonly #checkpointer: Checkpointer | null;

  /** `afterRollback` is told when a group transaction failed as a whole (its writes are undone). */
  constructor(path: string, options: SqliteStoreOptions, afterRollback: () => void) {
    this.#db = new DatabaseSync(path, { timeout: 5000 });
    this.#db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'};
      PRAGMA foreign_keys = ON;`);
    applyMigrations(this.#db, MIGRATIONS);
    // An in-memory database has no WAL (and no second connection could reach it).
    const ckpt =
      path === ':memory:' || path === ''
        ? null
        : new Checkpointer(
            this.#db,
            path,
            options.onCheckpointError ??
              ((m) => process.stderr.write(`hive store: background checkpoint failed: ${m}\n`)),
          );
    this.#checkpointer = ckpt;
    this.#writes = new GroupCommit(this.#db, {
      afterCommit: ckpt ? () => ckpt.committed() : undefined,
      afterRollback,
    });
  }

  /**
   * A write: runs in the next group transaction, resolves once that is committed. `atomic` when it
   * has several writing statements (a savepoint undoes them together if it throws).
   */
  write<T>(fn: () => T, atomic = false): Promise<T> {
    return this.#writes.run(fn, atomic);
  }

  /** No write is waiting for the next group transaction. */
  get idle(): boolean {
    return this.#writes.idle;
  }

  /** The statement for `sql`, prepared on first use. */
  q(sql: string): StatementSync {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  /** Commits pending writes, then closes (the checkpointer's connection first). Idempotent. */
  async close(): Promise<void> {
    if (!this.#db.isOpen) return;
    this.#writes.flush();
    // The worker's connection goes first, so that closing the last one checkpoints and removes the WAL.
    await this.#checkpointer?.close();
    if (this.#db.isOpen) this.#db.close();
  }
}
