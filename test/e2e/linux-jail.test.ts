// End to end on Linux, as root (CI): the built bundles, the reference hive (over TLS: a test CA made
// at start; the host trusts it by host.json's hive.caFile, the jailed agent by hive-ca.pem in the
// image soul layer), the vault test server and the real bw; `clawdie-host spawn-agent acme --jail` (the host bundle, a real process, the
// `linux` backend) creates the jail from a Linux root template (image/linux/rootfs.ts), registers
// and provisions the tenant and boots the jail: image/linux/boot.sh as pid 1 in new mount, pid,
// net, uts and ipc namespaces, dropping to the jail user and exec'ing the agent bundle.
// The jail's network namespace has only `lo`; the hive is reachable through a relay listening on
// the jail's own 127.0.0.1 and a Unix socket outside the jail (support/hive-link.ts), at the same
// loopback URL the host uses. Then: the agent registers and answers a task; the .env is 0600 and
// the jail user's; no jail file, argv or environment holds the bootstrap; the jail cannot reach
// any other host port; `clawdie-host revoke` drains the agent back to awaiting secrets.
// Skipped (with the reason in the suite name) unless root on Linux with unshare/nsenter/setpriv/ip.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestVault, type TestVault } from '../../host-helper/demo/services/test-vault.ts';
import { assembleLinuxRoot, JAIL_INIT, JAIL_NODE, lddPaths } from '../../image/linux/rootfs.ts';
import { JAIL_SOUL } from '../../image/overlay.ts';
import { type HiveProcess, nodeBinary, REPO_ROOT, startHive } from '../support/hive-process.ts';
import { pathOnlyEnv, type Run, runToEnd } from '../support/run-to-end.ts';
import { makeServerPair, makeTestCa, writePair } from '../support/test-ca.ts';
import { serveUnixToTcp } from './support/hive-link.ts';

const TOOLS = ['/usr/bin/unshare', '/usr/bin/nsenter', '/usr/bin/setpriv', '/usr/sbin/ip', '/usr/bin/ldd'];
const missing = TOOLS.filter((t) => !fs.existsSync(t));
const CAN_RUN = process.platform === 'linux' && process.getuid?.() === 0 && missing.length === 0;
const SKIP_REASON = CAN_RUN
  ? ''
  : ` — SKIPPED: needs root on Linux with ${missing.length ? missing.join(', ') : 'unshare, nsenter, setpriv, ip'}`;
if (!CAN_RUN) process.stderr.write(`test/e2e/linux-jail.test.ts${SKIP_REASON}\n`);

const TENANT = 'acme';
const UID = 1789;
const LINK = path.join(REPO_ROOT, 'test/e2e/support/hive-link.ts');

let base: string;
let jailsRoot: string;
let jailRoot: string;
let configFile: string;
let hive: HiveProcess;
let tv: TestVault;
let link: Server | undefined;
let relay: ChildProcess | undefined;
const outputs: string[] = [];

const run = (bin: string, args: string[], env: Record<string, string> = {}): Promise<Run> =>
  runToEnd(bin, args, { cwd: base, env: pathOnlyEnv(env), outputs });

const host = (args: string[]): Promise<Run> =>
  run(nodeBinary(), [path.join(base, 'dist/clawdie-host.mjs'), ...args, '--config', configFile, '--json']);

async function api<T>(method: string, route: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await hive.fetch(route, {
    method,
    headers: { authorization: `Bearer ${hive.adminToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
}

const agentLog = (): string => {
  try {
    return fs.readFileSync(path.join(jailRoot, 'var/log/clawdie/agent.log'), 'utf8');
  } catch {
    return '(no agent log)';
  }
};

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 30_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}\n--- agent log\n${agentLog()}\n--- hive\n${hive.output()}`);
}

/** The jail's pid 1 (host pid): the only child of the `unshare` whose pid the backend recorded. */
function initPid(): number {
  const upid = fs.readFileSync(path.join(jailsRoot, TENANT, 'unshare.pid'), 'utf8').trim();
  const kids = fs.readFileSync(`/proc/${upid}/task/${upid}/children`, 'utf8').trim().split(/\s+/);
  expect(kids).toHaveLength(1);
  return Number(kids[0]);
}

/** Host pids of every process whose root is the jail root. */
function jailPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return fs.readlinkSync(`/proc/${p}/root`) === jailRoot;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const bootstrap = (): string[] => [hive.adminToken, ...tv.secrets.slice(0, 2)];
const FORBIDDEN_NAMES = ['BW_SESSION', 'BW_CLIENTSECRET', 'BW_PASSWORD', 'BW_CLIENTID'];

function scanTree(dir: string, needles: string[]): string[] {
  const hits: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) hits.push(...scanTree(p, needles));
    else if (e.isFile()) {
      const data = fs.readFileSync(p);
      for (const n of needles) if (data.includes(n)) hits.push(`${p}: ${n.slice(0, 4)}…`);
    }
  }
  return hits;
}

beforeAll(async () => {
  if (!CAN_RUN) return;
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-e2e-'));
  jailsRoot = path.join(base, 'jails');
  fs.mkdirSync(jailsRoot, { mode: 0o700 });
  const build = run(nodeBinary(), [
    path.join(REPO_ROOT, 'image/build.ts'),
    '--outdir',
    path.join(base, 'dist'),
  ]);
  const ca = await makeTestCa();
  fs.writeFileSync(path.join(base, 'hive-ca.pem'), ca.cert, { mode: 0o644 });
  const tls = writePair(base, await makeServerPair(ca), 'hive-');
  [hive, tv] = await Promise.all([
    startHive({
      heartbeatSeconds: 2,
      pollSeconds: 5,
      tls: { certFile: tls.cert, keyFile: tls.key, ca: ca.cert },
    }),
    startTestVault(),
  ]);
  expect(hive.url).toMatch(/^https:\/\//);
  const built = await build;
  expect(built.code, built.stderr).toBe(0);
  assembleLinuxRoot({
    overlayDir: path.join(base, 'dist/image-overlay'),
    outDir: path.join(base, 'template'),
    uid: UID,
    nodeBin: nodeBinary(),
  });
  // The agent trusts the hive's CA from the image layer (read-only to the jail user).
  fs.writeFileSync(path.join(base, 'template', JAIL_SOUL, 'hive-ca.pem'), ca.cert, { mode: 0o644 });
  fs.writeFileSync(path.join(base, 'hive-admin.token'), `${hive.adminToken}\n`, { mode: 0o600 });
  configFile = path.join(base, 'host.json');
  const config = {
    store: path.join(base, 'state/tenants.db'),
    vault: { ...tv.config, timeoutMs: 60_000 },
    hive: {
      url: hive.url,
      adminTokenFile: path.join(base, 'hive-admin.token'),
      caFile: path.join(base, 'hive-ca.pem'),
    },
    jails: {
      backend: 'linux',
      root: jailsRoot,
      user: 'clawdie',
      template: path.join(base, 'template'),
      init: JAIL_INIT,
    },
  };
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o644 });
  jailRoot = path.join(fs.realpathSync(jailsRoot), TENANT, 'root');
  // The host half of the hive link: a Unix socket in a root-only directory outside every jail.
  fs.mkdirSync(path.join(base, 'link'), { mode: 0o700 });
  link = await serveUnixToTcp(path.join(base, 'link/hive.sock'), Number(new URL(hive.url).port));
}, 90_000);

afterAll(async () => {
  if (!CAN_RUN) return;
  // Killing the jail's pid 1 ends every process in its pid namespace; its net namespace (and the
  // relay's listening socket in it) goes with the last process holding it.
  const { linuxBackend } = await import('../../host-helper/jails/linux.ts');
  await linuxBackend({ root: jailsRoot, user: 'clawdie' })
    .stop(TENANT)
    .catch(() => undefined);
  relay?.kill('SIGKILL');
  link?.close();
  await Promise.all([hive?.stop(), tv?.close()]);
  fs.rmSync(base, { recursive: true, force: true });
});

describe.skipIf(!CAN_RUN)(`linux jail end to end (bundles, real bw, hive, namespaces)${SKIP_REASON}`, () => {
  it('spawn-agent creates, registers, provisions and boots the jail; the agent answers a task', async () => {
    const spawned = await host(['spawn-agent', TENANT, '--jail']);
    expect(spawned.code, spawned.stderr).toBe(0);
    expect(JSON.parse(spawned.stdout)).toMatchObject({
      tenant: TENANT,
      jailCreated: true,
      started: true,
      provision: 'written',
      status: 'active',
    });

    // Pid 1 of the jail runs as root only until boot.sh execs the agent as the jail user.
    const init = initPid();
    expect(fs.readlinkSync(`/proc/${init}/root`)).toBe(jailRoot);
    for (const ns of ['net', 'pid', 'mnt'])
      expect(fs.readlinkSync(`/proc/${init}/ns/${ns}`)).not.toBe(fs.readlinkSync(`/proc/self/ns/${ns}`));

    // The jail's network: bring up its lo, then the relay to the hive on the jail's 127.0.0.1.
    execFileSync('nsenter', [`--net=/proc/${init}/ns/net`, 'ip', 'link', 'set', 'lo', 'up']);
    relay = spawn(
      'nsenter',
      [
        `--net=/proc/${init}/ns/net`,
        '--',
        nodeBinary(),
        LINK,
        '--listen',
        `127.0.0.1:${new URL(hive.url).port}`,
        '--to',
        path.join(base, 'link/hive.sock'),
      ],
      { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      relay!.stdout!.once('data', () => resolve());
      relay!.once('exit', (code) => reject(new Error(`hive link exited ${String(code)}`)));
    });

    const agent = await until(
      'the jailed agent to register',
      async () => {
        const { json } = await api<{ agents: { agentId: string; tenant: string; state: string }[] }>(
          'GET',
          '/v1/admin/agents',
        );
        return json.agents.find((a) => a.tenant === TENANT && a.state === 'live');
      },
      60_000,
    );
    // The hive lists the agent as soon as it answers the registration; the agent writes its status
    // when that answer has arrived, a moment later (under load, after the hive is asked).
    const status = await until(
      'the jailed agent to write its running status',
      async () => {
        const s = JSON.parse(fs.readFileSync(path.join(jailRoot, 'var/db/clawdie/status.json'), 'utf8'));
        return s.state === 'running' ? s : undefined;
      },
      30_000,
    );
    expect(status).toMatchObject({ state: 'running', agentId: agent.agentId, pid: 1 });

    const submitted = await api<{ taskId: string }>('POST', '/v1/tasks', {
      tenant: TENANT,
      capability: 'echo',
      input: { hello: 'from the host' },
      ttlSeconds: 60,
    });
    expect(submitted.status).toBeLessThan(300);
    const view = await until('the echo task', async () => {
      const { json } = await api<{ state: string; result?: { status: string; output: unknown } }>(
        'GET',
        `/v1/tasks/${submitted.json.taskId}`,
      );
      return ['succeeded', 'failed', 'expired'].includes(json.state) ? json : undefined;
    });
    expect(view).toMatchObject({
      state: 'succeeded',
      result: { status: 'ok', output: { hello: 'from the host' } },
    });
    expect(agentLog()).toContain(submitted.json.taskId);
    // Over TLS, trusted by the image layer's CA file (the agent never fell back to plain http).
    expect(agentLog()).toContain('"msg":"hive CA file in use"');
    expect(agentLog()).not.toMatch(/refused: the hive/);
  }, 120_000);

  it('the .env is 0600 and the jail user’s; the agent runs as that user with a clean environment', () => {
    const st = fs.lstatSync(path.join(jailRoot, 'home/clawdie/.env'));
    expect([st.isFile(), st.mode & 0o777, st.uid, st.gid]).toEqual([true, 0o600, UID, UID]);
    const init = initPid();
    const ids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/m.exec(
      fs.readFileSync(`/proc/${init}/status`, 'utf8'),
    );
    expect(ids?.slice(1).map(Number)).toEqual([UID, UID, UID, UID]);
    expect(/^CapEff:\s+0+$/m.test(fs.readFileSync(`/proc/${init}/status`, 'utf8'))).toBe(true);
    const environ = fs.readFileSync(`/proc/${init}/environ`, 'utf8').split('\0').filter(Boolean);
    expect(environ.map((kv) => kv.split('=')[0]).sort()).toEqual([
      'CLAWDIE_USER',
      'HOME',
      'LANG',
      'PATH',
      'USER',
    ]);
    expect(fs.readFileSync(`/proc/${init}/cmdline`, 'utf8').split('\0')[0]).toBe(JAIL_NODE);
  });

  it('no jail file, argv or environment holds the org credential, a bw session or the admin token', () => {
    const needles = [...bootstrap(), ...FORBIDDEN_NAMES, tv.appdataDir];
    // Values anywhere under the jail root; the variable names also in everything the host or the
    // agent wrote (the agent bundle itself names them in its log redaction list).
    expect(scanTree(jailRoot, [...bootstrap(), tv.appdataDir])).toEqual([]);
    for (const dir of ['home', 'var', 'tmp', 'etc', 'usr/local/etc'])
      expect(scanTree(path.join(jailRoot, dir), needles)).toEqual([]);
    const pids = jailPids();
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) {
      for (const f of ['cmdline', 'environ']) {
        const text = fs.readFileSync(`/proc/${pid}/${f}`, 'utf8');
        for (const n of needles) expect(text.includes(n), `/proc/${pid}/${f}`).toBe(false);
      }
    }
  });

  it('the jail reaches the hive and nothing else of the host', async () => {
    const init = initPid();
    const probe = (port: number): Promise<Run> =>
      run('nsenter', [
        '--target',
        String(init),
        '--mount',
        '--pid',
        '--net',
        '--root',
        '--wdns=/',
        '--setuid',
        String(UID),
        '--setgid',
        String(UID),
        '--',
        JAIL_NODE,
        '-e',
        `require('net').connect(${port},'127.0.0.1').on('connect',()=>{console.log('open');process.exit(0)}).on('error',(e)=>{console.log(e.code);process.exit(0)})`,
      ]);
    const hivePort = Number(new URL(hive.url).port);
    const vaultPort = Number(new URL(tv.url).port);
    expect((await probe(hivePort)).stdout.trim()).toBe('open');
    expect((await probe(vaultPort)).stdout.trim()).toBe('ECONNREFUSED');
  }, 30_000);

  it('revoking the tenant removes the .env and drains the agent back to awaiting secrets', async () => {
    const revoked = await host(['revoke', TENANT]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({
      tenant: TENANT,
      envRemoved: true,
      tokenRevoked: true,
    });
    expect(fs.existsSync(path.join(jailRoot, 'home/clawdie/.env'))).toBe(false);
    const statusFile = path.join(jailRoot, 'var/db/clawdie/status.json');
    await until('the agent to drain to awaitingSecrets', () => {
      const s = JSON.parse(fs.readFileSync(statusFile, 'utf8')) as { state: string };
      return s.state === 'awaitingSecrets' ? s : undefined;
    });
    // The agent is still pid 1 of the jail, waiting; the hive no longer accepts its old token.
    expect(fs.readlinkSync(`/proc/${initPid()}/root`)).toBe(jailRoot);
    const listed = await host(['status', TENANT]);
    expect(JSON.parse(listed.stdout)).toMatchObject({ status: 'revoked' });
  }, 60_000);

  it('no output of any process (host CLI, hive, agent) holds the bootstrap', () => {
    const all = [...outputs, hive.output(), agentLog()].join('\n');
    for (const s of bootstrap()) expect(all.includes(s)).toBe(false);
    expect(all).not.toMatch(/BW_SESSION|BW_CLIENTSECRET|BW_PASSWORD/);
  });
});

describe('the Linux jail root template', () => {
  it('takes every library path ldd names, the loader included, and nothing for the vdso', () => {
    const out = [
      '\tlinux-vdso.so.1 (0x00007ffd)',
      '\tlibcap-ng.so.0 => /lib/x86_64-linux-gnu/libcap-ng.so.0 (0x00007fca65ce5000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fca65b03000)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007fca65d14000)',
    ].join('\n');
    expect(lddPaths(out)).toEqual([
      '/lib/x86_64-linux-gnu/libcap-ng.so.0',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it.skipIf(!CAN_RUN)(
    'boot.sh refuses a jail user that maps to root, and never starts the agent',
    async () => {
      const mini = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-boot-'));
      try {
        for (const d of ['bin', 'etc', 'var/log/clawdie', 'usr/local/libexec/clawdie'])
          fs.mkdirSync(path.join(mini, d), { recursive: true });
        const sh = fs.realpathSync('/bin/sh');
        fs.copyFileSync(sh, path.join(mini, 'bin/sh'));
        fs.chmodSync(path.join(mini, 'bin/sh'), 0o755);
        for (const lib of lddPaths(execFileSync('ldd', [sh], { encoding: 'utf8' }))) {
          fs.mkdirSync(path.join(mini, path.dirname(lib)), { recursive: true });
          fs.copyFileSync(fs.realpathSync(lib), path.join(mini, lib));
        }
        fs.copyFileSync(path.join(REPO_ROOT, 'image/linux/boot.sh'), path.join(mini, JAIL_INIT));
        fs.chmodSync(path.join(mini, JAIL_INIT), 0o755);
        fs.writeFileSync(path.join(mini, 'etc/passwd'), 'clawdie:x:0:1789::/home/clawdie:/bin/sh\n');
        const r = await run('unshare', ['--mount', '--pid', '--net', '--fork', '--root', mini, JAIL_INIT]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/maps to root or nobody; refused/);
        expect(fs.existsSync(path.join(mini, 'var/log/clawdie/agent.log'))).toBe(false);
      } finally {
        fs.rmSync(mini, { recursive: true, force: true });
      }
    },
  );
});
