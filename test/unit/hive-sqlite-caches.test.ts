// The SQLite store's in-memory copies (agents, live leases, tokens, the queued count) stay exact:
// after any sequence of store operations, what the store answers for every agent and task equals
// what a separate plain connection reads from the database file. Property-based, on a real file.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  AGENT_COLUMNS,
  type Row,
  TASK_COLUMNS,
  toAgent,
  toTask,
} from '../../host-helper/hive/sqlite/schema.ts';
import { SqliteHiveStore } from '../../host-helper/hive/sqlite/store.ts';
import { hashToken } from '../../host-helper/hive/tokens.ts';
import { echoAgent } from '../support/hive-fixtures.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clawdie-caches-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const AGENTS = ['a0', 'a1', 'a2'];
const agentOf = fc.integer({ min: 0, max: AGENTS.length - 1 });
const taskOf = fc.integer({ min: 0, max: 7 });
const Op = fc.oneof(
  fc.record({
    op: fc.constant('submit' as const),
    ttl: fc.integer({ min: 1, max: 40 }),
    to: fc.option(agentOf, { freq: 2 }), // half of them queued, half handed to an agent
  }),
  fc.record({ op: fc.constant('lease' as const), agent: agentOf }),
  // `own`: posted by the agent that holds the lease (else by a random one).
  fc.record({ op: fc.constant('complete' as const), task: taskOf, agent: agentOf, own: fc.boolean() }),
  fc.record({ op: fc.constant('release' as const), task: taskOf, agent: agentOf, own: fc.boolean() }),
  // Time passes first, so that TTLs and leases do run out.
  fc.record({ op: fc.constant('expire' as const), ms: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ op: fc.constant('heartbeat' as const), agent: agentOf }),
  // A heartbeat naming running tasks renews the leases the agent holds (lease renewal).
  fc.record({
    op: fc.constant('renew' as const),
    agent: agentOf,
    tasks: fc.array(taskOf, { maxLength: 3 }),
    ms: fc.integer({ min: 1, max: 20 }),
  }),
  fc.record({ op: fc.constant('lost' as const) }),
  fc.record({ op: fc.constant('deregister' as const), agent: agentOf }),
  fc.record({ op: fc.constant('register' as const), agent: agentOf }),
  fc.record({ op: fc.constant('drain' as const), agent: agentOf }),
  fc.record({ op: fc.constant('share' as const), shared: fc.boolean() }),
  fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 15 }) }),
);

it('answers every agent and task exactly as the database holds them', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(Op, { minLength: 1, maxLength: 60 }), async (ops) => {
      const path = join(dir, `hive-${run++}.db`);
      const store = new SqliteHiveStore(path);
      const truth = new DatabaseSync(path, { readOnly: true });
      const tasks: string[] = [];
      let now = 100;
      try {
        await store.setTenantToken('acme', hashToken('acme-token-00000000'), false, now);
        for (const a of AGENTS) await store.upsertAgent(echoAgent(a), now);
        const lessee = async (i: number) => {
          const a = (await store.getAgent(AGENTS[i]!))!;
          return { agentId: a.agentId, tenant: a.tenant, shared: a.shared, capabilities: a.capabilities };
        };
        const poster = (task: string, agent: number, own: boolean): string => {
          const r = truth.prepare('SELECT lease_agent FROM tasks WHERE task_id = ?').get(task) as Row;
          return own && r.lease_agent !== null ? String(r.lease_agent) : AGENTS[agent]!;
        };
        for (const o of ops) {
          switch (o.op) {
            case 'submit': {
              const taskId = `t${tasks.length}`;
              tasks.push(taskId);
              const lease =
                o.to === null ? undefined : { agentId: AGENTS[o.to]!, tenant: 'acme', expires: now + 10 };
              await store.insertTask(
                { taskId, tenant: 'acme', capability: 'echo', inputJson: '1', expiresAt: now + o.ttl, lease },
                now,
              );
              break;
            }
            case 'lease':
              await store.leaseNext(await lessee(o.agent), now, now + 10);
              break;
            case 'complete': {
              const t = tasks[o.task % Math.max(1, tasks.length)];
              if (t) await store.complete(t, poster(t, o.agent, o.own), 'ok', '2', now);
              break;
            }
            case 'release': {
              const t = tasks[o.task % Math.max(1, tasks.length)];
              if (t) await store.release(t, poster(t, o.agent, o.own), now);
              break;
            }
            case 'expire':
              now += o.ms;
              await store.expireLeases(now);
              await store.expireQueued(now);
              break;
            case 'heartbeat':
              await store.heartbeat(AGENTS[o.agent]!, now);
              break;
            case 'renew': {
              const named = o.tasks.flatMap((i) => tasks.slice(i % Math.max(1, tasks.length)).slice(0, 1));
              await store.renewLeases(AGENTS[o.agent]!, named, now, now + o.ms);
              break;
            }
            case 'lost':
              await store.markLost(now - 20, now);
              break;
            case 'deregister':
              await store.deregister(AGENTS[o.agent]!, now);
              break;
            case 'register':
              await store.upsertAgent(echoAgent(AGENTS[o.agent]!), now);
              break;
            case 'drain':
              await store.setAgentState(AGENTS[o.agent]!, 'draining');
              break;
            case 'share':
              await store.setTenantToken('acme', hashToken('acme-token-00000000'), o.shared, now);
              break;
            case 'tick':
              now += o.ms;
              break;
          }
          for (const id of AGENTS) {
            const r = truth.prepare(`SELECT ${AGENT_COLUMNS} WHERE a.agent_id = ?`).get(id) as
              | Row
              | undefined;
            expect(await store.getAgent(id)).toEqual(r ? toAgent(r) : null);
          }
          const queued = truth.prepare("SELECT COUNT(*) AS n FROM tasks WHERE state = 'queued'").get() as Row;
          expect(store.queuedCount).toBe(Number(queued.n));
          for (const id of tasks) {
            const r = truth.prepare(`SELECT ${TASK_COLUMNS} FROM tasks WHERE task_id = ?`).get(id) as
              | Row
              | undefined;
            expect(await store.getTask(id)).toEqual(r ? toTask(r) : null);
          }
        }
      } finally {
        truth.close();
        await store.close();
      }
    }),
    { numRuns: 25 },
  );
});
