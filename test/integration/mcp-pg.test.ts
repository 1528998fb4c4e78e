// The MCP door on two hive replicas over one PostgreSQL database (issue 17): the agents talk to
// replica B only, an MCP client's tools/call requests go to replica A and everything else it sends
// (initialize, tools/list, a 2025-era notifications/cancelled) to B. So a call is followed on A
// while its task is leased, answered and told of its cancellation on B, and a cancellation is
// found by the call's idempotency key on the replica that did not start it. Real processes beside
// a throwaway cluster; skipped, saying why, without PostgreSQL.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import { type HiveProcess, startHive } from '../support/hive-process.ts';
import { startPostgres } from '../support/postgres.ts';
import { defineToolScenarios } from './mcp-scenarios.ts';
import { type Era, httpClient, type McpWorld, startWorld } from './mcp-world.ts';

const server = await startPostgres();
const skip = 'skip' in server ? server.skip : null;
if (skip) process.stderr.write(`mcp-pg skipped: ${skip}\n`);

let world: McpWorld;
let replicaA: HiveProcess;
let replicaB: HiveProcess;

beforeAll(async () => {
  if ('skip' in server) return;
  const dbPath = await server.createDatabase();
  const adminToken = randomBytes(32).toString('base64url');
  [replicaA, replicaB] = await Promise.all([
    startHive({ dbPath, adminToken, heartbeatSeconds: 1 }),
    startHive({ dbPath, adminToken, heartbeatSeconds: 1 }),
  ]);
  world = await startWorld({
    // The first URL is where the agents go: replica B.
    urls: [replicaB.url, replicaA.url],
    adminToken,
    mintToken: (t, o) => replicaB.mintToken(t, o),
    stop: async () => {
      await Promise.all([replicaA.stop(), replicaB.stop()]);
    },
  });
}, 90_000);
afterAll(async () => {
  await world?.stop();
  if (!('skip' in server)) await server.stop();
});

/** tools/call to replica A, every other request of the client to replica B. */
const steer: typeof fetch = (input, init) => {
  const target = typeof init?.body === 'string' && init.body.includes('"tools/call"') ? replicaA : replicaB;
  const url = new URL(input instanceof Request ? input.url : String(input));
  const to = new URL(target.url);
  url.host = to.host;
  return fetch(url, init);
};

for (const era of ['legacy', 'modern'] as Era[]) {
  describe.skipIf(skip !== null)(`two PostgreSQL replicas, ${era} era`, () => {
    defineToolScenarios(
      () => world,
      () => httpClient(replicaB.url, world.tokens.acme, era, { fetch: steer }),
    );
  });
}
