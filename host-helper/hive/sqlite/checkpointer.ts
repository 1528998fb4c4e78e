// WAL checkpoints of the hive database on a worker thread with its own connection, so that their
// two fsyncs (WAL, then database file) never stall the event loop: a checkpoint run by the writing
// connection itself (SQLite's default every 1000 pages) blocks every request for 5-20 ms on a busy
// disk, which is most of a p99 dispatch latency. Durability is unchanged: a commit is in the WAL
// before it is answered either way; checkpoints only move committed pages into the database file.
// A commit cues a checkpoint shortly after (coalesced); nothing runs while no writes happen. The
// writing connection keeps a far larger automatic checkpoint as a bound on the WAL, for a worker
// that cannot keep up (or died).
import type { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';

/** How long after a commit the checkpoint runs: commits meanwhile share it. */
const DELAY_MS = 100;
/** The writer's own automatic checkpoint (pages), only reached if the worker falls far behind. */
const FALLBACK_PAGES = 10_000;

// CommonJS, evaluated in the worker: one connection, one PASSIVE checkpoint per message (PASSIVE
// never waits for the writer, so the writer never waits for it either).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path, { timeout: 5000 });
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    checkpoint.get();
    parentPort.postMessage(null);
  } catch (err) {
    parentPort.postMessage(String(err && err.message));
  }
});
`;

export class Checkpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  readonly #onError: (message: string) => void;
  #timer: NodeJS.Timeout | null = null;
  #inFlight = false;
  #dirty = false;
  #closed = false;
  /** Callers of now() waiting for a checkpoint not started yet, and for the one running. */
  #next: (() => void)[] = [];
  #running: (() => void)[] = [];

  /** `db` is the writing connection (its automatic checkpoint is moved out of the way). */
  constructor(db: DatabaseSync, path: string, onError: (message: string) => void) {
    this.#onError = onError;
    db.exec(`PRAGMA wal_autocheckpoint = ${FALLBACK_PAGES}`);
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path },
      // node:sqlite's experimental warning was printed once already, by the main thread.
      execArgv: ['--no-warnings'],
    });
    this.#worker.unref();
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.on('message', (err: string | null) => {
      this.#inFlight = false;
      if (err !== null) this.#onError(err);
      for (const resolve of this.#running.splice(0)) resolve();
      if (this.#next.length > 0) this.#post();
      else if (this.#dirty) this.#schedule();
    });
    this.#worker.on('error', (err) => {
      // Without the worker the writer's own automatic checkpoint takes over (at its default).
      this.#closed = true;
      if (db.isOpen) db.exec('PRAGMA wal_autocheckpoint = 1000');
      this.#onError(err.message);
      for (const resolve of [...this.#running.splice(0), ...this.#next.splice(0)]) resolve();
    });
  }

  /** A transaction was committed: checkpoint soon. */
  committed(): void {
    this.#dirty = true;
    if (!this.#inFlight) this.#schedule();
  }

  /** Runs a checkpoint now (after the one running, if any); resolves once it is done. */
  now(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#next.push(resolve);
      if (!this.#inFlight) this.#post();
    });
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#post();
    }, DELAY_MS);
    this.#timer.unref();
  }

  #post(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#dirty = false;
    this.#inFlight = true;
    this.#running.push(...this.#next.splice(0));
    this.#worker.postMessage('ckpt');
  }

  /** Stops the worker (after a checkpoint it is running); the writer's close checkpoints the rest. */
  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (!this.#closed) {
      this.#closed = true;
      // Referenced again: waiting for its exit must keep the event loop (and the process) alive.
      this.#worker.ref();
      this.#worker.postMessage('close');
    }
    await this.#exited;
    for (const resolve of [...this.#running.splice(0), ...this.#next.splice(0)]) resolve();
  }
}
