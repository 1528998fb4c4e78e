// The MCP door in this process (issue 17): the coordinator, the HTTP shell and the door over an
// in-memory store, a hand-driven agent over real HTTP. With --public-url, the door allows that
// host and names its resource by it. When the hive itself stops, closing the door ends the
// in-flight tools/call (the client sees its request cut) but leaves the task as it was: a replica
// going down is not the client cancelling, and the client's retry can follow the task on another
// replica. The contrast — a client that aborts cancels its task — is in mcp-scenarios.ts.
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Coordinator } from '../../host-helper/hive/coordinator.ts';
import { createHiveServer, type HiveListener } from '../../host-helper/hive/http/server.ts';
import { type McpDoors, mcpDoors } from '../../host-helper/hive/mcp/door.ts';
import { SqliteHiveStore } from '../../host-helper/hive/sqlite/store.ts';
import { createLogger } from '../../src/log.ts';
import { bearerJson } from '../support/bearer-json.ts';
import { echoAgent } from '../support/hive-fixtures.ts';
import { httpClient, taskOfProgress, taskState, until } from './mcp-world.ts';

const log = createLogger({
  name: 'test',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});
let store: SqliteHiveStore;
let hive: Coordinator;
let mcp: McpDoors;
let server: HiveListener;
let url: string;
let token: string;

beforeAll(async () => {
  store = new SqliteHiveStore(':memory:');
  hive = new Coordinator(
    store,
    { heartbeatSeconds: 10, pollSeconds: 5, leaseSeconds: 60 },
    'a'.repeat(32),
    log,
  );
  await hive.start();
  mcp = mcpDoors({ hive, log });
  server = createHiveServer(hive, log, { doors: mcp.doors });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  token = await hive.mintTenantToken('acme', false);
  await hive.register({ kind: 'tenant', tenant: 'acme', shared: false }, echoAgent('acme-1'));
});
afterAll(async () => {
  hive?.stop();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await store?.close();
});

/** Status and body of a raw request naming `host` (fetch may not set Host). */
function withHost(port: number, path: string, host: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', headers: { host } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('--public-url', () => {
  it('allows its host and names the resource by it; other names stay refused', async () => {
    const doors = mcpDoors({ hive, log, publicUrl: 'https://hive.example.org/' });
    const other = createHiveServer(hive, log, { doors: doors.doors });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const port = (other.address() as AddressInfo).port;
    try {
      const doc = await withHost(port, '/.well-known/oauth-protected-resource/mcp', 'hive.example.org');
      expect(doc.status).toBe(200);
      expect(JSON.parse(doc.text).resource).toBe('https://hive.example.org/mcp');
      expect((await withHost(port, '/mcp', 'hive.example.org')).status).toBe(401);
      expect((await withHost(port, '/mcp', 'hive.example.net')).status).toBe(403);
    } finally {
      await doors.close();
      other.closeAllConnections();
      await new Promise((r) => other.close(r));
    }
  });
});

describe('the hive shutting down under an MCP call', () => {
  it('cuts the call without cancelling its task', async () => {
    const client = await httpClient(url, token, 'modern');
    const messages: string[] = [];
    const call = client
      // The SDK's client notices the cut stream at once (a transport error) but settles the call
      // only at its request timeout, kept short here.
      .callTool(
        { name: 'echo', arguments: { n: 1 } },
        { timeout: 3_000, onprogress: (p) => void messages.push(p.message ?? '') },
      )
      .then(
        () => 'answered',
        () => 'cut',
      );
    const lease = await bearerJson<{ taskId: string }>(url, 'GET', '/v1/agents/acme-1/tasks?wait=10', token);
    expect(lease.status).toBe(200);
    await until('progress: leased', async () =>
      messages.some((m) => m.endsWith(' leased')) ? true : undefined,
    );
    expect(taskOfProgress(messages[0])).toBe(lease.json.taskId);

    await mcp.close();
    expect(await call).toBe('cut');
    expect(await taskState(url, token, lease.json.taskId)).toBe('leased');
    // The agent still finishes it.
    const done = await bearerJson(url, 'POST', `/v1/tasks/${lease.json.taskId}/result`, token, {
      status: 'ok',
      output: { n: 1 },
      agentId: 'acme-1',
    });
    expect(done.status).toBe(200);
    expect(await taskState(url, token, lease.json.taskId)).toBe('succeeded');
    await client.close().catch(() => undefined);
  });
});
