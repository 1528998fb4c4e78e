// Bug witness (found by the chaos suite): DESIGN §5 says the coordinator's first stdout line is its
// base URL alone, but a restart over a database holding leases that expired while it was down logs
// "leases and TTLs ended" (the startup sweep in Coordinator.start) BEFORE printing the URL, so
// startHive().restart() and any supervisor reading line 1 failed. Fixed in serve-command.ts: the
// coordinator starts (and sweeps) only after the URL is printed.
import { afterAll, describe, expect, it } from 'vitest';
import { type HiveProcess, startHive } from '../support/hive-process.ts';

let hive: HiveProcess | undefined;
afterAll(async () => {
  await hive?.stop();
});

async function call(h: HiveProcess, method: string, p: string, body?: unknown): Promise<Response> {
  return fetch(`${h.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('hive restart over expired leases', () => {
  it('still prints its URL as the first stdout line', async () => {
    hive = await startHive({ leaseSeconds: 1 });
    const token = await hive.mintToken('urlline');
    const agentId = '11111111-1111-4111-8111-111111111111';
    const reg = await fetch(`${hive.url}/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        agentId,
        tenant: 'urlline',
        capabilities: ['echo'],
        identityHash: 'a'.repeat(64),
        version: '1',
        os: 'linux',
      }),
    });
    expect(reg.status).toBeLessThan(300);
    const sub = await call(hive, 'POST', '/v1/tasks', { capability: 'echo', input: 1, tenant: 'urlline' });
    expect(sub.status).toBeLessThan(300);
    const poll = await fetch(`${hive.url}/v1/agents/${agentId}/tasks?wait=5`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(poll.status).toBe(200);
    await hive.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1_500)); // the lease ends while the hive is down
    await hive.restart(); // threw "unexpected first line from hive: {...leases and TTLs ended}"
    expect(hive.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  }, 30_000);
});
