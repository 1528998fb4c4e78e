// The demo's (and the tests') vault: a running vault test server plus everything the bw wrapper
// needs to use it.
//
// Stable API (other suites and the demo rely on it):
//
//   const tv = await startTestVault({ fixture?, realProcess?, timeoutMs?, organization? });
//   tv.url            base URL of the HTTPS test server (https://127.0.0.1:PORT)
//   tv.caCertPath     its self-signed certificate (bw gets it as NODE_EXTRA_CA_CERTS)
//   tv.dir            a fresh 0700 temp dir holding the files below (removed by close)
//   tv.credentialsFile  <dir>/bw.env, mode 0600: BW_CLIENTID, BW_CLIENTSECRET, BW_PASSWORD
//   tv.appdataDir     <dir>/bw-appdata, bw's isolated state dir (created on first use)
//   tv.bwBin          the pinned bw (node_modules/@bitwarden/cli/build/bw.js, run with this Node)
//   tv.config         a VaultConfig for openVault() with all of the above (organization "Clawdie")
//   tv.secrets        every secret string of the fixture (client secret, master password, item
//                     values) — scan logs, argv and error texts for these
//   tv.mutate(m)      steer the server (rotate a value, delete a collection, revoke the key, inject
//                     faults): see vault-server/mutations.ts; works in both modes
//   tv.describe()     ids by name: { organizations, collections, items }
//   tv.server         the in-process VaultServer (undefined when realProcess is set)
//   tv.close()        stops the server (kills the process) and removes dir
//
// Without a fixture it serves DEFAULT_FIXTURE (org "Clawdie", collections "acme" and "globex").
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { VaultConfig } from '../../vault/index.ts';
import { stableUuid } from './vault-server/crypto.ts';
import { DEFAULT_FIXTURE, type FixtureInput, FixtureSchema } from './vault-server/fixture.ts';
import type { Mutation } from './vault-server/mutations.ts';
import { startVaultServer, type VaultServer } from './vault-server/server.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BW_JS = join(REPO, 'node_modules', '@bitwarden', 'cli', 'build', 'bw.js');
const MAIN = join(REPO, 'host-helper', 'demo', 'services', 'vault-server', 'main.ts');

export interface Described {
  organizations: { id: string; name: string }[];
  collections: { id: string; name: string; organizationId: string }[];
  items: { id: string; name: string; collectionIds: string[] }[];
}

export interface TestVault {
  url: string;
  caCertPath: string;
  dir: string;
  credentialsFile: string;
  appdataDir: string;
  bwBin: string;
  config: VaultConfig;
  secrets: string[];
  server: VaultServer | undefined;
  mutate(m: Mutation): Promise<unknown>;
  describe(): Promise<Described>;
  close(): Promise<void>;
}

export interface TestVaultOptions {
  fixture?: FixtureInput;
  /** Run the server as a separate `node main.ts` process instead of in this one. */
  realProcess?: boolean;
  timeoutMs?: number;
  organization?: string;
}

async function startProcess(
  fixturePath: string,
): Promise<{ child: ChildProcess; url: string; ca: string; token: string }> {
  const child = spawn(process.execPath, [MAIN, '--fixture', fixturePath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const it = lines[Symbol.asyncIterator]();
  const first = await it.next();
  const second = await it.next();
  if (first.done || second.done) throw new Error('vault server process exited before printing its URL');
  const info = JSON.parse(second.value) as { caCertPath: string; testToken: string };
  return { child, url: first.value, ca: info.caCertPath, token: info.testToken };
}

/** POST to the steering endpoint of a server process, trusting only its own certificate. */
function postJson(url: string, ca: Buffer, token: string, m: Mutation): Promise<unknown> {
  return new Promise((resolveReply, reject) => {
    const req = request(
      url,
      { method: 'POST', ca, headers: { 'content-type': 'application/json', 'x-vault-test-token': token } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            result?: unknown;
            error?: string;
          };
          if (res.statusCode === 200) resolveReply(body.result);
          else reject(new Error(`vault server mutate ${m.op}: ${body.error ?? res.statusCode}`));
        });
      },
    );
    req.once('error', reject);
    req.end(JSON.stringify(m));
  });
}

export async function startTestVault(options: TestVaultOptions = {}): Promise<TestVault> {
  const fixture = FixtureSchema.parse(options.fixture ?? DEFAULT_FIXTURE);
  const dir = mkdtempSync(join(tmpdir(), 'clawdie-vault-'));
  let server: VaultServer | undefined;
  let child: ChildProcess | undefined;
  let url: string;
  let caCertPath: string;
  let mutate: (m: Mutation) => Promise<unknown>;
  if (options.realProcess) {
    const fixturePath = join(dir, 'fixture.json');
    writeFileSync(fixturePath, JSON.stringify(fixture), { mode: 0o600 });
    const p = await startProcess(fixturePath);
    child = p.child;
    url = p.url;
    caCertPath = p.ca;
    const ca = readFileSync(p.ca);
    mutate = (m) => postJson(`${p.url}/__test/mutate`, ca, p.token, m);
  } else {
    server = await startVaultServer(fixture);
    url = server.url;
    caCertPath = server.caCertPath;
    const s = server;
    mutate = async (m) => s.mutate(m);
  }
  const credentialsFile = join(dir, 'bw.env');
  const clientId = `user.${stableUuid(`user:${fixture.user.email.toLowerCase()}`)}`;
  writeFileSync(
    credentialsFile,
    `BW_CLIENTID=${clientId}\nBW_CLIENTSECRET=${fixture.user.clientSecret}\nBW_PASSWORD=${fixture.user.password}\n`,
    { mode: 0o600 },
  );
  const appdataDir = join(dir, 'bw-appdata');
  const itemSecrets = fixture.organizations.flatMap((o) =>
    o.collections.flatMap((c) =>
      c.items.flatMap((i) =>
        [i.password, i.notes, ...i.fields.map((f) => f.value)].filter((v) => v !== undefined),
      ),
    ),
  );
  const config: VaultConfig = {
    server: url,
    organization: options.organization ?? fixture.organizations[0]?.name ?? 'Clawdie',
    credentialsFile,
    appdataDir,
    bwBin: BW_JS,
    timeoutMs: options.timeoutMs ?? 90_000,
    extraCaCertsFile: caCertPath,
  };
  return {
    url,
    caCertPath,
    dir,
    credentialsFile,
    appdataDir,
    bwBin: BW_JS,
    config,
    secrets: [fixture.user.clientSecret, fixture.user.password, ...itemSecrets.filter((s) => s.length >= 6)],
    server,
    mutate,
    describe: async () => (await mutate({ op: 'describe' })) as Described,
    close: async () => {
      if (server) await server.close();
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child?.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
