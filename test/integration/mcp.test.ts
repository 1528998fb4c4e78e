// The hive's MCP door (issue 17) on the reference hive (SQLite) with real agents (mcp-world.ts),
// driven by the SDK's own client: the tool scenarios over HTTP in both protocol eras (2025-era
// stateless with the hive's session ids, 2026-07-28) and over the stdio bridge as a real child
// process; then what only HTTP has (mcp-http.ts) and what only the bridge has (mcp-bridge.ts).
import { afterAll, beforeAll, describe } from 'vitest';
import { startHive } from '../support/hive-process.ts';
import { defineBridgeSuite } from './mcp-bridge.ts';
import { defineHttpSuite } from './mcp-http.ts';
import { defineToolScenarios } from './mcp-scenarios.ts';
import { bridgeClient, type Era, httpClient, type McpWorld, startWorld, tokenFile } from './mcp-world.ts';

let world: McpWorld;

beforeAll(async () => {
  const hive = await startHive({ heartbeatSeconds: 1 });
  world = await startWorld({
    urls: [hive.url],
    adminToken: hive.adminToken,
    mintToken: (t, o) => hive.mintToken(t, o),
    stop: () => hive.stop(),
  });
}, 60_000);
afterAll(() => world?.stop());

for (const era of ['legacy', 'modern'] as Era[]) {
  describe(`over HTTP, ${era} era`, () => {
    defineToolScenarios(
      () => world,
      () => httpClient(world.mcpUrls[0]!, world.tokens.acme, era),
    );
  });
}

describe('over the stdio bridge', () => {
  defineToolScenarios(
    () => world,
    async () =>
      (await bridgeClient(world.agentUrl, await tokenFile(world.dir, 'acme', world.tokens.acme))).client,
  );
});

describe('the HTTP door', () => defineHttpSuite(() => world));
defineBridgeSuite(() => world);
