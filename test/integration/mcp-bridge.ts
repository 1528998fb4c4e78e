// The stdio bridge (`clawdie-host mcp --hive URL --token-file F`) as a real child process launched
// by the SDK's stdio client (issue 17): what only the bridge has — its token file must be the
// user's own and 0600, a revoked token and the admin token are refused at start with one line —
// and the token never shows in its argv, its stderr or its errors (the run-wide leak scan looks at
// them too; here each place is checked by name).
import { describe, expect, it } from 'vitest';
import { bearerJson } from '../support/bearer-json.ts';
import { bridgeClient, type McpWorld, runBridge, tokenFile } from './mcp-world.ts';

export function defineBridgeSuite(world: () => McpWorld): void {
  describe('the stdio bridge itself', () => {
    it('keeps the token out of its argv, stderr and answers', async () => {
      const w = world();
      const file = await tokenFile(w.dir, 'acme-bridge', w.tokens.acme);
      const b = await bridgeClient(w.agentUrl, file);
      expect(b.argv).toContain('--token-file');
      expect(b.argv).not.toContain(w.tokens.acme);
      const r = await b.client.callTool({ name: 'echo', arguments: { n: 1 } });
      expect(JSON.stringify(r)).not.toContain(w.tokens.acme);
      await expect(b.client.callTool({ name: 'globex-secret', arguments: {} })).rejects.toMatchObject({
        code: -32602,
      });
      await b.client.close();
      expect(b.stderr()).toContain('bridging stdio to the hive MCP door');
      expect(b.stderr()).not.toContain(w.tokens.acme);
    });

    it('refuses a token file others may read, a missing one, and no flag at all', async () => {
      const w = world();
      const loose = await tokenFile(w.dir, 'loose', w.tokens.acme, 0o644);
      const r = await runBridge(w.agentUrl, loose);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/^clawdie-host mcp: token file .*loose\.token must be mode 0600/);
      expect(r.stderr + r.stdout).not.toContain(w.tokens.acme);
      expect((await runBridge(w.agentUrl, `${w.dir}/nowhere.token`)).code).toBe(3);
      const usage = await runBridge(w.agentUrl, '');
      expect(usage.code).toBe(2);
    });

    it('a revoked token and the admin token are refused at start with one line', async () => {
      const w = world();
      const minted = await bearerJson<{ token: string }>(
        w.agentUrl,
        'POST',
        '/v1/admin/tenants/gone-bridge/token',
        w.adminToken,
        {},
      );
      await bearerJson(w.agentUrl, 'DELETE', '/v1/admin/tenants/gone-bridge/token', w.adminToken);
      const revoked = await runBridge(w.agentUrl, await tokenFile(w.dir, 'revoked', minted.json.token));
      expect(revoked.code).toBe(1);
      expect(revoked.stderr).toMatch(/the hive refused the token \(401\)/);
      expect(revoked.stderr).not.toContain(minted.json.token);
      expect(revoked.stdout).toBe('');
      const admin = await runBridge(w.agentUrl, await tokenFile(w.dir, 'admin', w.adminToken));
      expect(admin.code).toBe(1);
      expect(admin.stderr).toMatch(/403\): use a tenant token/);
      expect(admin.stderr).not.toContain(w.adminToken);
    });
  });
}
