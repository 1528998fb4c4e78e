// Vault benchmark (issue 5), real bw against the vault test server. Interleaved rounds of:
//  - wrapper, one tenant: openVault().withSession(findCollection + collectionEnv)
//  - by hand, one tenant: the minimal plain-CLI sequence — bw login --apikey, bw unlock
//    --passwordenv --raw, bw list collections --search, bw list items --collectionid, bw logout
//  - wrapper, 20 tenants in one withSession
// Reports medians, the single-tenant ratio wrapper/by-hand (target ≤ 1.2) and the per-tenant cost
// of the batch against one single provision (target < 1/5). Targets are reported, not enforced;
// exits 1 only if a fetched value is wrong.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestVault } from '../../host-helper/demo/services/test-vault.ts';
import type { FixtureInput } from '../../host-helper/demo/services/vault-server/fixture.ts';
import { openVault } from '../../host-helper/vault/index.ts';

const ROUNDS = Number(process.env.BENCH_VAULT_ROUNDS ?? 2);
const TENANTS = 20;
const run = promisify(execFile);

const tenant = (i: number): string => `t${String(i).padStart(2, '0')}`;
const fixture: FixtureInput = {
  user: {
    email: 'bench@clawdie.test',
    password: 'bench-master-password-1',
    clientSecret: 'bench-client-secret-1',
  },
  organizations: [
    {
      name: 'Clawdie',
      collections: Array.from({ length: TENANTS }, (_, i) => ({
        name: tenant(i + 1),
        items: [
          { name: 'OPENROUTER_API_KEY', password: `sk-or-${tenant(i + 1)}` },
          { name: 'CLAWDIE_MODEL', type: 'note' as const, notes: 'model/x' },
          { name: 'EXTRA', password: 'e', fields: [{ name: 'EXTRA_FLAG', value: 'on' }] },
        ],
      })),
    },
  ],
};

const tv = await startTestVault({ fixture });
const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
let wrong = 0;

try {
  const vault = openVault(tv.config);
  const single = async (): Promise<number> => {
    const t0 = performance.now();
    const env = await vault.withSession(async (s) => s.collectionEnv((await s.findCollection('t01')).id));
    if (env.find((e) => e.name === 'OPENROUTER_API_KEY')?.value !== 'sk-or-t01') wrong++;
    return performance.now() - t0;
  };
  const batch = async (): Promise<number> => {
    const t0 = performance.now();
    await vault.withSession(async (s) => {
      for (let i = 1; i <= TENANTS; i++) {
        const env = await s.collectionEnv((await s.findCollection(tenant(i))).id);
        if (env.find((e) => e.name === 'OPENROUTER_API_KEY')?.value !== `sk-or-${tenant(i)}`) wrong++;
      }
    });
    return performance.now() - t0;
  };

  // by hand: its own appdata dir, server configured once beforehand (as an operator would)
  const handDir = join(tv.dir, 'bw-by-hand');
  const creds = Object.fromEntries(
    readFileSync(tv.credentialsFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as Record<string, string>;
  const baseEnv = {
    PATH: process.env.PATH ?? '',
    HOME: handDir,
    BITWARDENCLI_APPDATA_DIR: handDir,
    BW_NOINTERACTION: 'true',
    NODE_EXTRA_CA_CERTS: tv.caCertPath,
  };
  const bw = async (args: string[], extra: Record<string, string> = {}): Promise<string> =>
    (await run(process.execPath, [tv.bwBin, ...args], { env: { ...baseEnv, ...extra } })).stdout;
  await bw(['config', 'server', tv.url]);
  const byHand = async (): Promise<number> => {
    const t0 = performance.now();
    await bw(['login', '--apikey'], {
      BW_CLIENTID: creds.BW_CLIENTID ?? '',
      BW_CLIENTSECRET: creds.BW_CLIENTSECRET ?? '',
    });
    const session = (
      await bw(['unlock', '--passwordenv', 'BW_PASSWORD', '--raw'], { BW_PASSWORD: creds.BW_PASSWORD ?? '' })
    ).trim();
    const cols = JSON.parse(
      await bw(['list', 'collections', '--search', 't01'], { BW_SESSION: session }),
    ) as { id: string; name: string }[];
    const id = cols.find((c) => c.name === 't01')?.id ?? '';
    const items = JSON.parse(await bw(['list', 'items', '--collectionid', id], { BW_SESSION: session })) as {
      name: string;
      login?: { password?: string };
    }[];
    if (items.find((i) => i.name === 'OPENROUTER_API_KEY')?.login?.password !== 'sk-or-t01') wrong++;
    await bw(['logout']);
    return performance.now() - t0;
  };

  await single(); // warm-up: the wrapper's first session also sets the server
  const results = { single: [] as number[], hand: [] as number[], batch: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    results.hand.push(await byHand());
    results.single.push(await single());
    results.batch.push(await batch());
  }
  const s = median(results.single);
  const h = median(results.hand);
  const b = median(results.batch);
  const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  process.stdout.write(
    [
      `rounds: ${ROUNDS} (interleaved), load average ${loadavg()[0]?.toFixed(2)}, medians:`,
      `  one tenant, wrapper (status, login, serve[unlock, lists, lock], logout): ${fmt(s)}  [${results.single.map(fmt).join(', ')}]`,
      `  one tenant, by hand (login, unlock, list collections, list items, logout): ${fmt(h)}  [${results.hand.map(fmt).join(', ')}]`,
      `  ratio wrapper / by hand: ${(s / h).toFixed(2)}  (target ≤ 1.2)`,
      `  ${TENANTS} tenants in one session: ${fmt(b)}  [${results.batch.map(fmt).join(', ')}]`,
      `  per tenant in the batch: ${fmt(b / TENANTS)} = ${(b / TENANTS / s).toFixed(3)} of one single provision  (target < 0.2)`,
      `  wrong values: ${wrong}`,
      '',
    ].join('\n'),
  );
} finally {
  await tv.close();
}
if (wrong > 0) process.exit(1);
