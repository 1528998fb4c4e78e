// The hive's Prometheus metrics (issue 19) on a real coordinator process: GET /metrics needs the admin
// token (401 without, 403 with a tenant's), --metrics-listen serves them without one, the figures
// move with the work (submitted, finished by outcome, lease expiries and requeues, queue depth and
// age, agents by capability and kind, parked long-polls, request and store latency per route
// template), no task or agent id ever becomes a label, a tenant label appears only with
// --metrics per-tenant, --metrics off answers 404, and `promtool check metrics` (Debian's prometheus
// package) accepts the output where it is installed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerJson } from '../support/bearer-json.ts';
import { echoAgent } from '../support/hive-fixtures.ts';
import { type HiveProcess, startHive } from '../support/hive-process.ts';
import { waitUntil } from './agent-process.ts';

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
if (!PROMTOOL)
  process.stderr.write(
    "test/integration/hive-metrics.test.ts: promtool check SKIPPED (install Debian's prometheus)\n",
  );

let hive: HiveProcess;
let perTenant: HiveProcess;
let off: HiveProcess;

beforeAll(async () => {
  [hive, perTenant, off] = await Promise.all([
    startHive({ leaseSeconds: 1, pollSeconds: 2, args: ['--metrics-listen', '127.0.0.1:0'] }),
    startHive({ args: ['--metrics', 'per-tenant'] }),
    startHive({ args: ['--metrics', 'off'] }),
  ]);
});
afterAll(async () => {
  await Promise.all([hive?.stop(), perTenant?.stop(), off?.stop()]);
});

const scrape = async (h: HiveProcess, token: string | null = h.adminToken): Promise<Response> =>
  fetch(`${h.url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

/** Samples of the text format: `name{labels} value` → value, keyed by the line's name and labels. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

const value = (s: Map<string, number>, key: string): number => s.get(key) ?? 0;

describe('GET /metrics', () => {
  it('needs the admin token: 401 without one, 403 with a tenant token', async () => {
    expect((await scrape(hive, null)).status).toBe(401);
    expect((await scrape(hive, 'not-a-token')).status).toBe(401);
    expect((await scrape(hive, await hive.mintToken('metrics-other'))).status).toBe(403);
    const res = await scrape(hive);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await res.text()).toContain('# TYPE clawdie_hive_tasks_submitted_total counter');
  });

  it('moves with the work, with bounded labels only', async () => {
    const token = await hive.mintToken('acme');
    const lane = await hive.mintToken('lane-m', { shared: true });
    const api = (t: string, method: string, route: string, body?: unknown) =>
      bearerJson(hive.url, method, route, t, body);
    expect((await api(token, 'POST', '/v1/agents', echoAgent('acme-m1'))).status).toBe(200);
    expect(
      (
        await api(lane, 'POST', '/v1/agents', {
          ...echoAgent('lane-m1', 'lane-m'),
          capabilities: ['echo', 'render'],
        })
      ).status,
    ).toBe(200);
    const submit = async (capability: string) =>
      (await api(token, 'POST', '/v1/tasks', { capability, input: 1 })).json.taskId as string;
    const take = async (agent: string, t: string) =>
      (await api(t, 'GET', `/v1/agents/${agent}/tasks?wait=1`)).json as { taskId: string } | null;
    const ids = [await submit('echo'), await submit('echo'), await submit('echo')];
    const a = await take('acme-m1', token);
    // Its holder's heartbeat renews its lease (counted without labels).
    const beat = await api(token, 'POST', '/v1/agents/acme-m1/heartbeat', { running: [a!.taskId] });
    expect(beat.json).toMatchObject({ renewed: [a!.taskId] });
    const b = await take('acme-m1', token);
    await api(token, 'POST', `/v1/tasks/${a!.taskId}/result`, {
      status: 'ok',
      output: 1,
      agentId: 'acme-m1',
    });
    await api(token, 'POST', `/v1/tasks/${b!.taskId}/result`, {
      status: 'error',
      output: 'no',
      agentId: 'acme-m1',
    });
    // The third: leased and never answered; its 1 s lease runs out and it goes back to the queue.
    const c = await take('acme-m1', token);
    expect(c).not.toBeNull();
    await submit('nobody-has-this');
    // A parked long-poll, counted while it waits.
    const parked = api(lane, 'GET', '/v1/agents/lane-m1/tasks?wait=5');
    await waitUntil(async () => {
      const m = samples(await (await scrape(hive)).text());
      return value(m, 'clawdie_hive_long_polls_parked') >= 1 ? true : undefined;
    }, 'a poll to park');
    await parked;
    const s = await waitUntil(async () => {
      const m = samples(await (await scrape(hive)).text());
      return value(m, 'clawdie_hive_lease_expiries_total{capability="echo"}') >= 1 ? m : undefined;
    }, 'a lease to expire');
    expect(value(s, 'clawdie_hive_tasks_submitted_total{capability="echo"}')).toBe(3);
    expect(value(s, 'clawdie_hive_tasks_finished_total{capability="echo",outcome="succeeded"}')).toBe(1);
    expect(value(s, 'clawdie_hive_tasks_finished_total{capability="echo",outcome="failed"}')).toBe(1);
    expect(value(s, 'clawdie_hive_requeues_total{capability="echo",reason="lease_expired"}')).toBe(1);
    expect(value(s, 'clawdie_hive_lease_renewals_total')).toBe(1);
    expect(value(s, 'clawdie_hive_queue_depth{capability="nobody-has-this"}')).toBe(1);
    expect(s.has('clawdie_hive_queue_oldest_age_seconds{capability="nobody-has-this"}')).toBe(true);
    expect(value(s, 'clawdie_hive_agents{capability="echo",kind="tenant",state="live"}')).toBe(1);
    expect(value(s, 'clawdie_hive_agents{capability="render",kind="lane",state="live"}')).toBe(1);
    expect(
      value(
        s,
        'clawdie_hive_http_request_duration_seconds_count{route="/v1/tasks/:taskId/result",method="POST",code="200"}',
      ),
    ).toBe(2);
    expect(
      value(
        s,
        'clawdie_hive_http_request_duration_seconds_count{route="/v1/agents/:agentId/tasks",method="GET",code="200"}',
      ),
    ).toBeGreaterThanOrEqual(3);
    expect(value(s, 'clawdie_hive_store_duration_seconds_count{op="insertTask"}')).toBeGreaterThanOrEqual(4);
    expect(s.has('process_cpu_seconds_total')).toBe(true);

    const text = await (await scrape(hive)).text();
    for (const id of [...ids, 'acme-m1', 'lane-m1']) expect(text).not.toContain(id);
    expect(text).not.toContain('tenant=');
    expect(text).not.toContain(hive.adminToken);
  });

  it('is served without a token on --metrics-listen, and nothing else there', async () => {
    const line = await waitUntil(
      () =>
        hive
          .output()
          .split('\n')
          .find((l) => l.includes('metrics listening without a token')),
      'the metrics listener',
    );
    const addr = (JSON.parse(line) as { metricsListen: string }).metricsListen;
    const res = await fetch(`http://${addr}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('clawdie_hive_tasks_submitted_total');
    expect((await fetch(`http://${addr}/v1/admin/agents`)).status).toBe(404);
  });

  it('labels by tenant only with --metrics per-tenant; --metrics off has no /metrics', async () => {
    const token = await perTenant.mintToken('acme');
    await bearerJson(perTenant.url, 'POST', '/v1/tasks', token, { capability: 'echo', input: 1 });
    const text = await (await scrape(perTenant)).text();
    expect(text).toContain('clawdie_hive_tasks_submitted_total{capability="echo",tenant="acme"} 1');
    expect((await scrape(off)).status).toBe(404);
  });

  it.skipIf(!PROMTOOL)(
    `passes promtool check metrics${PROMTOOL ? '' : ' — SKIPPED: promtool not installed'}`,
    async () => {
      for (const h of [hive, perTenant]) {
        const text = await (await scrape(h)).text();
        const r = spawnSync(PROMTOOL!, ['check', 'metrics'], { input: text, encoding: 'utf8' });
        expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      }
    },
  );
});
