// Group commit for the SQLite hive store: writes asked for while the event loop handles one round of
// I/O are run together, in order, in ONE transaction at the end of that round (setImmediate), and
// each caller's promise settles only after that COMMIT — so an answer still follows a durable write,
// but a burst of submits, leases and results shares one WAL append instead of writing the same hot
// pages once per request. A write that throws rejects alone; the others commit. A failing statement
// is undone by SQLite itself, so only writes of several statements ask for a savepoint (`atomic`),
// which undoes all of theirs. Reads never see a write before it is committed (writes run only
// inside the flush, which is synchronous).
import type { DatabaseSync, StatementSync } from 'node:sqlite';

interface Op {
  fn: () => unknown;
  atomic: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit {
  readonly #db: DatabaseSync;
  readonly #afterCommit: () => void;
  readonly #afterRollback: () => void;
  #ops: Op[] = [];
  #scheduled: NodeJS.Immediate | null = null;
  readonly #stmts: Record<'begin' | 'commit' | 'savepoint' | 'release' | 'rollbackTo', StatementSync>;

  /**
   * `afterCommit` runs after every successful COMMIT (the checkpointer's cue); `afterRollback` after
   * a write was undone (one that threw, inside the transaction, or a whole group that failed, after
   * its ROLLBACK): what the store derived from it in memory must be rebuilt.
   */
  constructor(db: DatabaseSync, hooks: { afterCommit?: () => void; afterRollback?: () => void } = {}) {
    this.#db = db;
    this.#afterCommit = hooks.afterCommit ?? (() => {});
    this.#afterRollback = hooks.afterRollback ?? (() => {});
    this.#stmts = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      savepoint: db.prepare('SAVEPOINT op'),
      release: db.prepare('RELEASE op'),
      rollbackTo: db.prepare('ROLLBACK TO op'),
    };
  }

  /**
   * Runs `fn` in the next group transaction; resolves with its value once that is committed.
   * `atomic`: `fn` runs several writing statements, undone together if it throws.
   */
  run<T>(fn: () => T, atomic = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#ops.push({ fn, atomic, resolve: resolve as (v: unknown) => void, reject });
      this.#scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** No write is waiting for the next group. */
  get idle(): boolean {
    return this.#ops.length === 0;
  }

  /** Runs and commits every queued write now (also used before closing the database). */
  flush(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = null;
    const ops = this.#ops;
    if (ops.length === 0) return;
    this.#ops = [];
    const s = this.#stmts;
    const out: { ok: boolean; value: unknown }[] = [];
    try {
      s.begin.run();
      for (const op of ops) {
        if (op.atomic) s.savepoint.run();
        try {
          out.push({ ok: true, value: op.fn() });
          if (op.atomic) s.release.run();
        } catch (err) {
          // An error that ended the whole transaction (disk full, I/O) fails the whole group below.
          if (!this.#db.isTransaction) throw err;
          if (op.atomic) {
            s.rollbackTo.run();
            s.release.run();
          }
          this.#afterRollback();
          out.push({ ok: false, value: err });
        }
      }
      s.commit.run();
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      this.#afterRollback();
      for (const op of ops) op.reject(err);
      return;
    }
    this.#afterCommit();
    for (let i = 0; i < ops.length; i++) {
      const r = out[i]!;
      if (r.ok) ops[i]!.resolve(r.value);
      else ops[i]!.reject(r.value);
    }
  }
}
