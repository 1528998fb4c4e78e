// Three coordinator replicas (real processes) over one PostgreSQL database, with agents whose
// every request goes to the next replica in turn and moves on to the one after when a replica does
// not answer (connection refused or cut). Checked: a poll parked on one replica is woken by a submit
// on another; a token revoked through one replica is refused by all at once; under a steady load
// every task is delivered exactly once, also when a replica is killed with SIGKILL mid-run.
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskAssignment, TaskView } from '../../src/protocol/index.ts';
import { type HiveProcess, startHive } from '../support/hive-process.ts';
import { startPostgres } from '../support/postgres.ts';

const server = await startPostgres();
const skip = 'skip' in server ? server.skip : null;
if (skip) process.stderr.write(`hive-pg-replicas skipped: ${skip}\n`);

interface Reply {
  status: number;
  body: Record<string, unknown> | undefined;
  /** The replica that answered. */
  replica: number;
}

/** Errors that mean "this replica did not answer": try the next one. */
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Round-robin over the replicas with failover; counts the requests that had to move on. */
class Fleet {
  readonly urls: string[];
  readonly dispatcher = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
  next = 0;
  failovers = 0;
  serverErrors = 0;

  constructor(urls: string[]) {
    this.urls = urls;
  }

  async send(method: 'GET' | 'POST', path: string, token: string, body?: unknown): Promise<Reply> {
    for (let tries = 0; ; tries++) {
      const replica = this.next++ % this.urls.length;
      try {
        const res = await request(`${this.urls[replica]}${path}`, {
          method,
          dispatcher: this.dispatcher,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.body.text();
        if (res.statusCode >= 500) this.serverErrors++;
        return {
          status: res.statusCode,
          body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
          replica,
        };
      } catch (err) {
        const code = String((err as { code?: unknown }).code);
        if (!CONNECTION_ERRORS.has(code) || tries >= this.urls.length * 3) throw err;
        this.failovers++;
      }
    }
  }
}

describe.skipIf(skip !== null)('three replicas over PostgreSQL', () => {
  let replicas: HiveProcess[] = [];
  let fleet: Fleet;
  const adminToken = randomBytes(32).toString('base64url');

  beforeAll(async () => {
    if ('skip' in server) return;
    const dbPath = await server.createDatabase();
    // Started together: they migrate the fresh database at the same time.
    replicas = await Promise.all(
      [0, 1, 2].map(() => startHive({ dbPath, adminToken, heartbeatSeconds: 2, leaseSeconds: 5 })),
    );
    fleet = new Fleet(replicas.map((r) => r.url));
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await fleet?.dispatcher.close();
    if (!('skip' in server)) await server.stop();
  });

  async function tenant(name: string): Promise<string> {
    const r = await fleet.send('POST', `/v1/admin/tenants/${name}/token`, adminToken, {});
    expect(r.status).toBe(201);
    return String(r.body!.token);
  }

  async function agent(token: string, tenantName: string, agentId: string, cap: string): Promise<void> {
    const r = await fleet.send('POST', '/v1/agents', token, {
      agentId,
      tenant: tenantName,
      capabilities: [cap],
      identityHash: 'a'.repeat(64),
      version: '0',
      os: 'test',
    });
    expect(r.status).toBe(200);
  }

  /** A request to one replica in particular (no failover). */
  const at = async (
    i: number,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    token: string,
    body?: unknown,
  ) => {
    const res = await request(`${replicas[i]!.url}${path}`, {
      method,
      dispatcher: fleet.dispatcher,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };

  it('a poll parked on one replica is woken by a submit on another, and the result is seen by the third', async () => {
    const token = await tenant('wake');
    await agent(token, 'wake', 'wake-1', 'ping');
    const parked = at(2, 'GET', '/v1/agents/wake-1/tasks?wait=20', token);
    await new Promise((r) => setTimeout(r, 300));
    const sub = await at(0, 'POST', '/v1/tasks', token, { capability: 'ping', input: 'hello' });
    expect(sub.status).toBe(201);
    const got = await parked;
    expect(got.status).toBe(200);
    expect(TaskAssignment.parse(got.body)).toMatchObject({ taskId: sub.body!.taskId, input: 'hello' });
    const done = await at(1, 'POST', `/v1/tasks/${String(sub.body!.taskId)}/result`, token, {
      status: 'ok',
      output: 'hi',
      agentId: 'wake-1',
    });
    expect(done.status).toBe(200);
    const view = TaskView.parse((await at(2, 'GET', `/v1/tasks/${String(sub.body!.taskId)}`, token)).body);
    expect(view).toMatchObject({ state: 'succeeded', result: { status: 'ok', output: 'hi' } });
  });

  it('a token revoked through one replica is refused by every replica at once', async () => {
    const token = await tenant('gone');
    await agent(token, 'gone', 'gone-1', 'ping');
    // Every replica has authenticated this token (a cache, if any, would hold it now).
    for (const i of [0, 1, 2])
      expect((await at(i, 'POST', '/v1/agents/gone-1/heartbeat', token, {})).status).toBe(200);
    const parked = at(1, 'GET', '/v1/agents/gone-1/tasks?wait=20', token);
    await new Promise((r) => setTimeout(r, 300));
    const del = await request(`${replicas[0]!.url}/v1/admin/tenants/gone/token`, {
      method: 'DELETE',
      dispatcher: fleet.dispatcher,
      headers: { authorization: `Bearer ${adminToken}` },
    });
    await del.body.dump();
    expect(del.statusCode).toBe(204);
    for (const i of [0, 1, 2])
      expect((await at(i, 'POST', '/v1/agents/gone-1/heartbeat', token, {})).status).toBe(401);
    // The poll parked on replica 1 was ended by the event (not by its 20 s wait) and its next try is a 401.
    expect([204, 401]).toContain((await parked).status);
    expect((await at(1, 'GET', '/v1/agents/gone-1/tasks?wait=1', token)).status).toBe(401);
  });

  it('a lease left unanswered on one replica ends, and the task reaches an agent parked on another', async () => {
    const token = await tenant('expire');
    await agent(token, 'expire', 'slow', 'job');
    await agent(token, 'expire', 'other', 'job');
    const sub = await at(0, 'POST', '/v1/tasks', token, { capability: 'job', input: 1 });
    const first = await at(0, 'GET', '/v1/agents/slow/tasks?wait=5', token);
    expect(TaskAssignment.parse(first.body).taskId).toBe(sub.body!.taskId);
    // Replica 2 never saw this task's lease; the requeue (by whichever replica swept) wakes its poll.
    // 'other' keeps heartbeating meanwhile: silent for 3 intervals (6 s) it would be lost, which on a
    // loaded machine could come before the 5 s lease's sweep and end its poll with a 204.
    const alive = setInterval(() => void at(0, 'POST', '/v1/agents/other/heartbeat', token, {}), 1000);
    const second = await at(2, 'GET', '/v1/agents/other/tasks?wait=20', token).finally(() =>
      clearInterval(alive),
    );
    expect(second.status).toBe(200);
    expect(TaskAssignment.parse(second.body).taskId).toBe(sub.body!.taskId);
    const late = await at(1, 'POST', `/v1/tasks/${String(sub.body!.taskId)}/result`, token, {
      status: 'ok',
      output: 'late',
      agentId: 'slow',
    });
    expect(late.status).toBe(409);
  });

  it('delivers every task exactly once under load, also when a replica is killed -9 mid-run', async () => {
    const TASKS = 200;
    const AGENTS = 8;
    const token = await tenant('load');
    const ids = Array.from({ length: AGENTS }, (_, i) => `load-${i}`);
    for (const id of ids) await agent(token, 'load', id, 'work');
    const received: string[] = [];
    let stop = false;
    let killed: Promise<unknown> | null = null;
    const beats = setInterval(() => {
      for (const id of ids)
        void fleet.send('POST', `/v1/agents/${id}/heartbeat`, token, {}).catch(() => undefined);
    }, 300);
    const work = async (agentId: string): Promise<void> => {
      while (!stop) {
        const r = await fleet.send('GET', `/v1/agents/${agentId}/tasks?wait=1`, token);
        if (r.status === 204) continue;
        expect(r.status).toBe(200);
        const t = TaskAssignment.parse(r.body);
        received.push(t.taskId);
        // A third of the way, kill replica 1 without warning: in-flight polls and posts are cut.
        if (received.length === Math.floor(TASKS / 3)) killed = replicas[1]!.kill('SIGKILL');
        const res = await fleet.send('POST', `/v1/tasks/${t.taskId}/result`, token, {
          status: 'ok',
          output: t.input,
          agentId,
        });
        expect(res.status).toBe(200);
      }
    };
    const agents = ids.map(work);
    // Submits carry an idempotency key, so one retried on another replica after a cut stays one task.
    const keys = new Map<string, string>();
    let nextKey = 0;
    const submitter = async (): Promise<void> => {
      while (nextKey < TASKS) {
        const key = `k${nextKey++}`;
        const r = await fleet.send('POST', '/v1/tasks', token, {
          capability: 'work',
          input: key,
          idempotencyKey: key,
        });
        expect([200, 201]).toContain(r.status);
        keys.set(key, String(r.body!.taskId));
      }
    };
    await Promise.all(Array.from({ length: 6 }, submitter));
    const want = new Set(keys.values());
    const end = Date.now() + 40_000;
    while (
      Date.now() < end &&
      !(received.length >= want.size && [...want].every((id) => received.includes(id)))
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    stop = true;
    await Promise.all(agents);
    clearInterval(beats);
    expect(await killed).toBe('SIGKILL');

    expect(want.size).toBe(TASKS);
    expect(received.length - new Set(received).size).toBe(0);
    expect(new Set(received)).toEqual(want);
    for (const id of want) {
      const v = await fleet.send('GET', `/v1/tasks/${id}`, token);
      expect(TaskView.parse(v.body).state).toBe('succeeded');
    }
    expect(fleet.failovers).toBeGreaterThan(0);
    expect(fleet.serverErrors).toBe(0);
  });
});
