// The hive's live view (/ui, issue 19) in a real browser: Debian's chromium driven by playwright-core
// (never a browser download), against a real hive with two real agents working (a tenant's and a
// shared lane's). `clawdie-host ui` prints a one-time link; the page signs in with it (the code leaves
// the address bar and works only once), shows both agents, and its numbers move when tasks run. The
// API gives nothing without a session, and a pasted admin token signs in the same way.
// Skipped, saying why, where /usr/bin/chromium is absent (.ci/run installs it).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  envText,
  makeRoot,
  removeRoot,
  startAgent,
  waitUntil,
  writeEnv,
} from '../integration/agent-process.ts';
import { bearerJson } from '../support/bearer-json.ts';
import { type HiveProcess, nodeBinary, REPO_ROOT, startHive } from '../support/hive-process.ts';

const CHROMIUM = '/usr/bin/chromium';
const CAN_RUN = existsSync(CHROMIUM);
const SKIP = CAN_RUN ? '' : ` — SKIPPED: needs Debian's chromium at ${CHROMIUM}`;
if (!CAN_RUN) process.stderr.write(`test/e2e/hive-ui.test.ts${SKIP}\n`);
// What the machine's closed network and a root user need (see the workplace notes on chromium).
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let dir: string;
let hive: HiveProcess;
let acme: string;
const agents: AgentProcess[] = [];
const roots: string[] = [];
let browser: BrowserContext | undefined;

beforeAll(async () => {
  if (!CAN_RUN) return;
  dir = mkdtempSync(path.join(tmpdir(), 'clawdie-hive-ui-'));
  hive = await startHive({ heartbeatSeconds: 2, pollSeconds: 5 });
  acme = await hive.mintToken('acme');
  const lane = await hive.mintToken('lane-ui', { shared: true });
  for (const [tenant, token] of [
    ['acme', acme],
    ['lane-ui', lane],
  ] as const) {
    const root = makeRoot();
    roots.push(root);
    writeEnv(root, envText({ url: hive.url, token, tenant }));
    agents.push(startAgent(root));
  }
  await Promise.all(agents.map((a) => a.waitState('running', 30_000)));
  browser = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
}, 90_000);

afterAll(async () => {
  if (!CAN_RUN) return;
  await browser?.close();
  await Promise.all(agents.map((a) => a.kill()));
  await hive?.stop();
  for (const r of roots) removeRoot(r);
  rmSync(dir, { recursive: true, force: true });
});

/** `clawdie-host ui --json` as a real process, against a host.json that names this hive. */
async function uiLink(): Promise<{ url: string; expiresInSeconds: number }> {
  const tokenFile = path.join(dir, 'hive-admin.token');
  writeFileSync(tokenFile, `${hive.adminToken}\n`, { mode: 0o600 });
  const config = path.join(dir, 'host.json');
  writeFileSync(
    config,
    JSON.stringify({
      store: path.join(dir, 'tenants.db'),
      vault: {
        server: 'https://vault.invalid',
        organization: 'Clawdie',
        credentialsFile: path.join(dir, 'bw.env'),
        appdataDir: path.join(dir, 'bw'),
      },
      hive: { url: hive.url, adminTokenFile: tokenFile },
      jails: { backend: 'dir', root: dir },
    }),
    { mode: 0o644 },
  );
  const child = spawn(
    nodeBinary(),
    [path.join(REPO_ROOT, 'host-helper/cli.ts'), 'ui', '--config', config, '--json'],
    {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  expect(code, err).toBe(0);
  expect(`${out}${err}`).not.toContain(hive.adminToken);
  return JSON.parse(out) as { url: string; expiresInSeconds: number };
}

const text = async (page: Page, test: string): Promise<string> =>
  (await page.locator(`[data-test=${test}]`).textContent()) ?? '';

async function runEcho(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await bearerJson<{ taskId: string }>(hive.url, 'POST', '/v1/tasks', acme, {
      capability: 'echo',
      input: { i },
    });
    ids.push(r.json.taskId);
  }
  for (const id of ids) {
    await waitUntil(async () => {
      const r = await bearerJson<{ state: string }>(hive.url, 'GET', `/v1/tasks/${id}`, acme);
      return r.json.state === 'succeeded' ? true : undefined;
    }, `task ${id}`);
  }
  return ids;
}

describe.skipIf(!CAN_RUN)(`the /ui live view in chromium${SKIP}`, () => {
  it('gives no data without a session, and a link code works once', async () => {
    expect((await fetch(`${hive.url}/ui/api/state`)).status).toBe(401);
    // The admin token is for signing in, not for reading.
    expect((await bearerJson(hive.url, 'GET', '/ui/api/state', hive.adminToken)).status).toBe(401);
    expect((await bearerJson(hive.url, 'POST', '/ui/api/link', acme, {})).status).toBe(403);
    const page = await (await fetch(`${hive.url}/ui`)).text();
    expect(page).toContain('<script type="module" src="/ui/app.js"></script>');
    expect(page).not.toContain('acme');
    const link = await uiLink();
    const code = new URL(link.url).hash.slice('#code='.length);
    expect((await bearerJson(hive.url, 'POST', '/ui/api/session', 'none', { code })).status).toBe(201);
    expect((await bearerJson(hive.url, 'POST', '/ui/api/session', 'none', { code })).status).toBe(401);
  });

  it('signs in by the one-time link, shows the agents, and its numbers move when tasks run', async () => {
    const link = await uiLink();
    expect(link.url).toMatch(new RegExp(`^${hive.url}/ui#code=[0-9a-f]{64}$`));
    const page = await browser!.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(link.url);
    await page.locator('[data-test=agents-live]').filter({ hasText: '2' }).waitFor({ timeout: 15_000 });
    // The code left the address bar at once and never went to the server in a URL.
    expect(new URL(page.url()).hash).toBe('');
    const code = new URL(link.url).hash.slice('#code='.length);
    expect(requests.some((u) => u.includes(code))).toBe(false);
    for (const tenant of ['acme', 'lane-ui']) {
      const box = page.locator(`[data-tenant="${tenant}"]`);
      await expect.poll(() => box.textContent()).toContain('live');
    }
    expect(await page.locator('[data-tenant="lane-ui"] .kind').textContent()).toBe('shared lane');
    expect(await page.locator('[data-tenant="acme"]').textContent()).toContain('echo');

    const before = Number(await text(page, 'succeeded'));
    const ids = await runEcho(5);
    await expect
      .poll(async () => Number(await text(page, 'succeeded')), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(before + 5);
    await expect
      .poll(() => page.locator(`[data-test=recent] tr[data-task="${ids.at(-1)}"]`).textContent(), {
        timeout: 10_000,
      })
      .toContain('succeeded');
    expect(await page.locator('#chart-ok rect').count()).toBeGreaterThan(0);
    // CLAWDIE_UI_SCREENSHOT=file.png keeps a picture of the page for a person to look at.
    await page.screenshot({
      path: process.env.CLAWDIE_UI_SCREENSHOT ?? path.join(dir, 'ui.png'),
      fullPage: true,
    });
    // A reload keeps the session (this tab's sessionStorage), without the link.
    await page.reload();
    await page.locator('[data-test=agents-live]').filter({ hasText: '2' }).waitFor({ timeout: 10_000 });
    await page.close();
  }, 60_000);

  it('signs in with a pasted admin token, keeping only a session token', async () => {
    const page = await browser!.newPage();
    await page.goto(`${hive.url}/ui`);
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#token', 'not-the-token');
    await page.click('button[type=submit]');
    await expect.poll(() => page.locator('#login-error').textContent()).toContain('bearer token');
    await page.fill('#token', hive.adminToken);
    await page.click('button[type=submit]');
    await page.locator('[data-test=agents-live]').filter({ hasText: '2' }).waitFor({ timeout: 15_000 });
    const stored = await page.evaluate(() => JSON.stringify(sessionStorage));
    expect(stored).not.toContain(hive.adminToken);
    expect(await page.inputValue('#token')).toBe('');
    await page.close();
  }, 30_000);
});
