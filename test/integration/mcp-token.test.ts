// `clawdie-host mcp-token T [--out F]` as a real process (issue 17): it says where tenant T's hive
// token is and prints the MCP client configurations for both forms without ever printing the
// token; with --out it writes the token to a new 0600 file (never over an existing one), and that
// file is what the stdio bridge then connects with.
import { statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenantsStore } from '../../host-helper/store/tenants-store.ts';
import { type HiveProcess, nodeBinary, REPO_ROOT, startHive } from '../support/hive-process.ts';
import { type Run, runToEnd } from '../support/run-to-end.ts';
import { bridgeClient } from './mcp-world.ts';

const CLI = path.join(REPO_ROOT, 'host-helper/cli.ts');
let dir: string;
let hive: HiveProcess;
let config: string;
let token: string;

const runCli = (args: string[]): Promise<Run> => runToEnd(nodeBinary(), [CLI, ...args, '--config', config]);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'clawdie-mcp-token-'));
  hive = await startHive();
  token = await hive.mintToken('acme');
  const adminTokenFile = path.join(dir, 'hive-admin.token');
  await writeFile(adminTokenFile, `${hive.adminToken}\n`, { mode: 0o600 });
  const store = path.join(dir, 'tenants.db');
  await mkdir(path.join(dir, 'jails'), { mode: 0o700 });
  config = path.join(dir, 'host.json');
  await writeFile(
    config,
    JSON.stringify({
      store,
      vault: {
        server: 'https://127.0.0.1:9',
        organization: 'Clawdie',
        credentialsFile: path.join(dir, 'bw.env'),
        appdataDir: path.join(dir, 'bw'),
      },
      hive: { url: hive.url, adminTokenFile },
      jails: { backend: 'dir', root: path.join(dir, 'jails'), user: 'clawdie' },
    }),
    { mode: 0o644 },
  );
  // As provision leaves it: the tenant's row, and its token in the root-only store.
  const s = new TenantsStore(store);
  const now = new Date().toISOString();
  for (const t of ['acme', 'fresh']) {
    s.register({ tenant: t, jail: t, collectionName: t, collectionId: null, shared: false, now });
  }
  s.saveHiveToken('acme', token, now);
  s.close();
}, 30_000);
afterAll(async () => {
  await hive?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('clawdie-host mcp-token', () => {
  it('says where the token is and how to connect, never printing it', async () => {
    const r = await runCli(['mcp-token', 'acme']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`the hive token of acme is in the host store ${path.join(dir, 'tenants.db')}`);
    expect(r.stdout).toContain('clawdie-host mcp-token acme --out');
    expect(r.stdout).toContain(`"url": "${hive.url}/mcp"`);
    expect(r.stdout).toContain('"args": [');
    expect(r.stdout + r.stderr).not.toContain(token);
  });

  it('--out writes a new 0600 file the bridge connects with; an existing file is never overwritten', async () => {
    const out = path.join(dir, 'acme.token');
    const r = await runCli(['mcp-token', 'acme', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(token);
    const printed = JSON.parse(r.stdout) as {
      tokenFile: string;
      stdio: { mcpServers: Record<string, { args: string[] }> };
    };
    expect(printed.tokenFile).toBe(out);
    expect(printed.stdio.mcpServers['clawdie-acme']!.args).toEqual([
      'mcp',
      '--hive',
      hive.url,
      '--token-file',
      out,
    ]);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect((await readFile(out, 'utf8')).trim()).toBe(token);

    const again = await runCli(['mcp-token', 'acme', '--out', out]);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/exists; remove it or name a new file/);

    const bridge = await bridgeClient(hive.url, out);
    expect((await bridge.client.listTools()).tools).toEqual([]);
    await bridge.client.close();
  });

  it('a tenant without a token, or unknown, is not found (exit 3)', async () => {
    const fresh = await runCli(['mcp-token', 'fresh']);
    expect(fresh.code).toBe(3);
    expect(fresh.stderr).toMatch(/has no hive token yet: run clawdie-host provision fresh/);
    expect((await runCli(['mcp-token', 'nobody'])).code).toBe(3);
    expect((await runCli(['mcp-token', 'acme', '--out', 'relative.token'])).code).toBe(2);
  });
});
