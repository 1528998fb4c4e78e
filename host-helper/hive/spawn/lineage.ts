// Who spawned whom (DESIGN §8): one row per spawned child tenant, kept in the hive's SQLite file
// (its own table, its own connection) so limits survive restarts and revoking a parent can find
// every descendant (decide.ts walks the rows). The thin storage shell.
import { DatabaseSync } from 'node:sqlite';

export type SpawnState = 'pending' | 'active' | 'failed' | 'revoked';

export interface SpawnRecord {
  child: string;
  parentAgent: string;
  parentTenant: string;
  rootTenant: string;
  depth: number;
  capabilities: string[];
  state: SpawnState;
  createdAt: number;
}

interface Row {
  child: string;
  parent_agent: string;
  parent_tenant: string;
  root_tenant: string;
  depth: number;
  capabilities: string;
  state: SpawnState;
  created_at: number;
}

const toRecord = (r: Row): SpawnRecord => ({
  child: r.child,
  parentAgent: r.parent_agent,
  parentTenant: r.parent_tenant,
  rootTenant: r.root_tenant,
  depth: Number(r.depth),
  capabilities: JSON.parse(r.capabilities) as string[],
  state: r.state,
  createdAt: Number(r.created_at),
});

export class SpawnLineage {
  readonly #db: DatabaseSync;

  constructor(dbPath: string) {
    this.#db = new DatabaseSync(dbPath, { timeout: 5000 });
    this.#db.exec(`PRAGMA journal_mode = WAL;
      CREATE TABLE IF NOT EXISTS spawn_lineage (
        child TEXT PRIMARY KEY,
        parent_agent TEXT NOT NULL,
        parent_tenant TEXT NOT NULL,
        root_tenant TEXT NOT NULL,
        depth INTEGER NOT NULL,
        capabilities TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS spawn_lineage_root ON spawn_lineage (root_tenant, created_at);`);
  }

  /** The record of a spawned tenant, or null for a tenant the host registered itself. */
  get(child: string): SpawnRecord | null {
    const row = this.#db.prepare('SELECT * FROM spawn_lineage WHERE child = ?').get(child) as Row | undefined;
    return row ? toRecord(row) : null;
  }

  all(): SpawnRecord[] {
    return (
      this.#db.prepare('SELECT * FROM spawn_lineage ORDER BY created_at').all() as unknown as Row[]
    ).map(toRecord);
  }

  childrenOfAgent(agentId: string): number {
    return this.#live('parent_agent', agentId);
  }

  totalForRoot(root: string): number {
    return this.#live('root_tenant', root);
  }

  /** Spawns still pending or active whose `column` is `value`. */
  #live(column: 'parent_agent' | 'root_tenant', value: string): number {
    const row = this.#db
      .prepare(
        `SELECT COUNT(*) AS n FROM spawn_lineage WHERE ${column} = ? AND state IN ('pending', 'active')`,
      )
      .get(value) as { n: number };
    return Number(row.n);
  }

  /** Attempt times (failed ones too: a failing executor must not be hammered) since `since`. */
  attemptsSince(root: string, since: number): number[] {
    const rows = this.#db
      .prepare('SELECT created_at FROM spawn_lineage WHERE root_tenant = ? AND created_at > ?')
      .all(root, since) as { created_at: number }[];
    return rows.map((r) => Number(r.created_at));
  }

  insert(r: SpawnRecord): void {
    this.#db
      .prepare(
        `INSERT INTO spawn_lineage (child, parent_agent, parent_tenant, root_tenant, depth, capabilities, state, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.child,
        r.parentAgent,
        r.parentTenant,
        r.rootTenant,
        r.depth,
        JSON.stringify(r.capabilities),
        r.state,
        r.createdAt,
      );
  }

  setState(child: string, state: SpawnState): void {
    this.#db.prepare('UPDATE spawn_lineage SET state = ? WHERE child = ?').run(state, child);
  }

  close(): void {
    this.#db.close();
  }
}
