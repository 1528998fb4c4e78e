// Cross-replica events over PostgreSQL LISTEN/NOTIFY. Writers add pg_notify() to the statement (or
// transaction) that makes the change, so an event is delivered only once its change is committed;
// one dedicated connection per replica LISTENs and turns payloads into StoreEvents for the
// coordinator. Events a replica sent itself are dropped (it reacted already). If that connection
// drops it reconnects with backoff and emits `resync`, since notifications sent meanwhile are lost.
import pg from 'pg';
import { z } from 'zod';
import type { Logger } from '../../../src/log.ts';
import { nextDelay } from '../../../src/retry/backoff.ts';
import type { StoreEvent } from '../store/store.ts';
import { CHANNEL } from './schema.ts';

/** What travels in a notification (< 8000 bytes: names are bounded by the protocol schemas). */
const Payload = z.discriminatedUnion('k', [
  z.object({
    o: z.string(),
    k: z.literal('t'),
    id: z.string(),
    tn: z.string(),
    c: z.string(),
    q: z.boolean(),
    at: z.coerce.number(),
  }),
  z.object({ o: z.string(), k: z.literal('a'), id: z.string(), live: z.boolean() }),
  z.object({ o: z.string(), k: z.literal('n'), tn: z.string() }),
]);

/** The event in a payload, or null if it came from `origin` itself or is not ours to read. */
export function parsePayload(text: string, origin: string): StoreEvent | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  // Our own events come back to us too (every replica listens): drop them before validating.
  if ((json as { o?: unknown } | null)?.o === origin) return null;
  const r = Payload.safeParse(json);
  if (!r.success) return null;
  const p = r.data;
  if (p.k === 't') {
    return { kind: 'task', taskId: p.id, tenant: p.tn, capability: p.c, queued: p.q, deadline: p.at };
  }
  if (p.k === 'a') return { kind: 'agent', agentId: p.id, live: p.live };
  return { kind: 'tenant', tenant: p.tn };
}

/** JSON text of a task event (for statements that know the values in advance). */
export const taskPayload = (
  origin: string,
  t: { taskId: string; tenant: string; capability: string; queued: boolean; deadline: number },
): string =>
  JSON.stringify({
    o: origin,
    k: 't',
    id: t.taskId,
    tn: t.tenant,
    c: t.capability,
    q: t.queued,
    at: t.deadline,
  });

/**
 * SQL expressions that notify from inside a statement, one notification per row (payloads differ
 * by id, so PostgreSQL does not fold two of them into one). `origin` is our own hex id.
 */
export const sqlNotify = {
  task: (origin: string, id: string, tenant: string, cap: string, queued: string, at: string): string =>
    `pg_notify('${CHANNEL}', json_build_object('o', '${origin}', 'k', 't', 'id', ${id}, 'tn', ${tenant},
      'c', ${cap}, 'q', ${queued}, 'at', ${at})::text)`,
  agent: (origin: string, id: string, live: boolean): string =>
    `pg_notify('${CHANNEL}', json_build_object('o', '${origin}', 'k', 'a', 'id', ${id}, 'live', ${live})::text)`,
  tenant: (origin: string, tenant: string): string =>
    `pg_notify('${CHANNEL}', json_build_object('o', '${origin}', 'k', 'n', 'tn', ${tenant})::text)`,
};

export class NotifyListener {
  readonly #config: pg.ClientConfig;
  readonly #origin: string;
  readonly #log: Logger | undefined;
  readonly #listeners = new Set<(e: StoreEvent) => void>();
  #client: pg.Client | null = null;
  #closed = false;
  #attempt = 0;
  #retry: NodeJS.Timeout | null = null;

  constructor(config: pg.ClientConfig, origin: string, log?: Logger) {
    this.#config = config;
    this.#origin = origin;
    this.#log = log;
  }

  /** Connects and LISTENs; the first connection must succeed (the caller reports it). */
  async start(): Promise<void> {
    await this.#connect();
  }

  subscribe(listener: (e: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(e: StoreEvent): void {
    for (const l of this.#listeners) l(e);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ ...this.#config, application_name: 'clawdie-hive-listen' });
    client.on('notification', (m) => {
      if (m.channel !== CHANNEL || m.payload === undefined) return;
      const e = parsePayload(m.payload, this.#origin);
      if (e) this.#emit(e);
    });
    const lost = (err?: Error): void => {
      if (this.#client !== client) return;
      this.#client = null;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (this.#closed) return;
      this.#log?.warn({ err }, 'hive event connection lost; reconnecting');
      this.#schedule();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await client.connect();
    try {
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.#closed) {
      await client.end();
      return;
    }
    this.#client = client;
  }

  #schedule(): void {
    const delay = nextDelay(this.#attempt++, { baseMs: 100, capMs: 5000 }) ?? 5000;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#connect().then(
        () => {
          this.#attempt = 0;
          // Whatever was notified while we were away is lost: make the coordinator look again.
          if (!this.#closed) this.#emit({ kind: 'resync' });
        },
        (err: unknown) => {
          if (this.#closed) return;
          this.#log?.warn({ err }, 'hive event connection failed; retrying');
          this.#schedule();
        },
      );
    }, delay);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    const c = this.#client;
    this.#client = null;
    this.#listeners.clear();
    if (c) await c.end().catch(() => undefined);
  }
}
