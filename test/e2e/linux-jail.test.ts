// End to end on Linux, as root (CI): the built bundles, the reference hive (over TLS: a test CA made
// at start; the host trusts it by host.json's hive.caFile, the jailed agents by hive-ca.pem in the
// body's image soul layer), the vault test server and the real bw. `clawdie-host body install` makes a body (DESIGN §11) from the build; two jails
// (acme, globex) are created by `clawdie-host spawn-agent T --jail` (the host bundle, a real
// process, the `linux` backend) from a Linux root template (image/linux/rootfs.ts) and boot on that
// one body: bound read-only at /usr/local/share/clawdie in each jail's own mount namespace, its
// boot.sh as pid 1 in new mount, pid, net, uts and ipc namespaces, dropping to the jail user and
// exec'ing the body's node on the body's agent bundle.
// A jail's network namespace has only `lo`; the hive is reachable through a listening socket made
// inside it and relayed by this process (support/hive-link.ts) at the same loopback URL the host
// uses. Then: each agent registers and answers a task; both jails run the same node file (same
// inode) from the same read-only mount; the jail's root gets EROFS on every write to the body and
// can neither remount it nor leave its root; the .env is 0600 and the jail user's; no jail file,
// argv or environment holds the bootstrap; the jail cannot reach any other host port; `body switch`
// moves a jail with a task in flight to a new version by a drained restart, the task completes,
// and `body rollback --all` brings every jail back; `clawdie-host revoke` drains the agent back to
// awaiting secrets.
// Skipped (with the reason in the suite name) unless root on Linux with unshare/nsenter/setpriv/ip.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY, BODY_MOUNT, inJail } from '../../host-helper/body/layout.ts';
import { startTestVault, type TestVault } from '../../host-helper/demo/services/test-vault.ts';
import { JAIL_ROOT_CAPS } from '../../host-helper/jails/linux-body.ts';
import { assembleLinuxRoot, JAIL_INIT, JAIL_NODE, lddPaths } from '../../image/linux/rootfs.ts';
import { type HiveProcess, nodeBinary, REPO_ROOT, startHive } from '../support/hive-process.ts';
import { pathOnlyEnv, type Run, runToEnd } from '../support/run-to-end.ts';
import { makeServerPair, makeTestCa, writePair } from '../support/test-ca.ts';
import { linkJailToHive } from './support/hive-link.ts';

const TOOLS = ['/usr/bin/unshare', '/usr/bin/nsenter', '/usr/bin/setpriv', '/usr/sbin/ip', '/usr/bin/ldd'];
const missing = TOOLS.filter((t) => !fs.existsSync(t));
const CAN_RUN = process.platform === 'linux' && process.getuid?.() === 0 && missing.length === 0;
const SKIP_REASON = CAN_RUN
  ? ''
  : ` — SKIPPED: needs root on Linux with ${missing.length ? missing.join(', ') : 'unshare, nsenter, setpriv, ip'}`;
if (!CAN_RUN) process.stderr.write(`test/e2e/linux-jail.test.ts${SKIP_REASON}\n`);

const TENANTS = ['acme', 'globex'] as const;
const TENANT = TENANTS[0];
const UID = 1789;
/** uid 0 in the jail with the capabilities the backend leaves the jail's root. */
const JAIL_ROOT_SETPRIV = [
  '/usr/bin/setpriv',
  `--bounding-set=-all,${JAIL_ROOT_CAPS.map((c) => `+${c}`).join(',')}`,
  '--inh-caps=-all',
  '--',
];

let base: string;
let jailsRoot: string;
let bodies: string;
let configFile: string;
let hive: HiveProcess;
let tv: TestVault;
let v1: string;
let v2: string;
const links: Server[] = [];
const outputs: string[] = [];

const jailRoot = (t: string): string => path.join(fs.realpathSync(jailsRoot), t, 'root');

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

const agentLog = (t: string = TENANT): string => {
  try {
    return fs.readFileSync(path.join(jailRoot(t), 'var/log/clawdie/agent.log'), 'utf8');
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
  throw new Error(
    `timed out waiting for ${what}\n--- agent logs\n${TENANTS.map((t) => agentLog(t)).join('\n')}\n--- hive\n${hive.output()}`,
  );
}

/** The jail's pid 1 (host pid): the only child of the `unshare` whose pid the backend recorded. */
function initPid(t: string = TENANT): number {
  const upid = fs.readFileSync(path.join(jailsRoot, t, 'unshare.pid'), 'utf8').trim();
  const kids = fs.readFileSync(`/proc/${upid}/task/${upid}/children`, 'utf8').trim().split(/\s+/);
  expect(kids).toHaveLength(1);
  return Number(kids[0]);
}

/** Host pids of every process whose root is the jail root. */
function jailPids(t: string = TENANT): number[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return fs.readlinkSync(`/proc/${p}/root`) === jailRoot(t);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The body's line in the jail's mount table: [source root, mount point, options]. */
function bodyMount(t: string): { root: string; options: string[] } {
  const line = fs
    .readFileSync(`/proc/${initPid(t)}/mountinfo`, 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === path.join(jailRoot(t), BODY_MOUNT) || l.split(' ')[4] === BODY_MOUNT);
  expect(line, `no ${BODY_MOUNT} in the mount table of ${t}`).toBeDefined();
  const f = (line as string).split(' ');
  return { root: f[3] as string, options: (f[5] as string).split(',') };
}

/** Runs `node -e script` inside jail `t` as its root with the jail root's capabilities. */
function asJailRoot(t: string, script: string): Promise<Run> {
  return run('nsenter', [
    '--target',
    String(initPid(t)),
    '--mount',
    '--pid',
    '--root',
    '--wdns=/',
    '--',
    ...JAIL_ROOT_SETPRIV,
    JAIL_NODE,
    '-e',
    script,
  ]);
}

/** Links the jail's (current) network namespace to the hive and waits for its agent to run. */
async function connect(t: string): Promise<{ agentId: string }> {
  links.push(await linkJailToHive(initPid(t), Number(new URL(hive.url).port), nodeBinary()));
  const agent = await until(
    `the agent of ${t} to register`,
    async () => {
      const { json } = await api<{ agents: { agentId: string; tenant: string; state: string }[] }>(
        'GET',
        '/v1/admin/agents',
      );
      return json.agents.find((a) => a.tenant === t && a.state === 'live');
    },
    60_000,
  );
  // The hive lists the agent as soon as it answers the registration; the agent writes its status
  // when that answer has arrived, a moment later.
  await until(`the agent of ${t} to write its running status`, () => {
    try {
      const s = JSON.parse(fs.readFileSync(path.join(jailRoot(t), 'var/db/clawdie/status.json'), 'utf8'));
      return s.state === 'running' && s.agentId === agent.agentId && s.pid === 1 ? s : undefined;
    } catch {
      return undefined;
    }
  });
  return agent;
}

async function submit(t: string, capability: string, input: unknown): Promise<string> {
  const r = await api<{ taskId: string }>('POST', '/v1/tasks', {
    tenant: t,
    capability,
    input,
    ttlSeconds: 120,
  });
  expect(r.status).toBeLessThan(300);
  return r.json.taskId;
}

type TaskView = { state: string; result?: { status: string; output: unknown } };
const taskState = async (id: string): Promise<TaskView> =>
  (await api<TaskView>('GET', `/v1/tasks/${id}`)).json;
const settled = (id: string, ms = 60_000) =>
  until(
    `task ${id}`,
    async () => {
      const v = await taskState(id);
      return ['succeeded', 'failed', 'expired'].includes(v.state) ? v : undefined;
    },
    ms,
  );

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

async function install(from: string): Promise<string> {
  const r = await host(['body', 'install', '--from', from, '--node', nodeBinary()]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { version: string }).version;
}

beforeAll(async () => {
  if (!CAN_RUN) return;
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-e2e-'));
  jailsRoot = path.join(base, 'jails');
  bodies = path.join(base, 'bodies');
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
  // Two builds of the body: the image's, plus a test skill that holds a task in flight; the
  // second differs in its image soul only (a new version, the same node).
  const src1 = path.join(base, 'body-1');
  const src2 = path.join(base, 'body-2');
  fs.cpSync(path.join(base, 'dist/body'), src1, { recursive: true });
  fs.cpSync(
    path.join(REPO_ROOT, 'test/fixtures/skills/slow-echo'),
    path.join(src1, BODY.soul, 'skills/slow-echo'),
    {
      recursive: true,
    },
  );
  // The agents trust the hive's CA from the body's image soul layer (read-only in every jail).
  fs.writeFileSync(path.join(src1, BODY.soul, 'hive-ca.pem'), ca.cert, { mode: 0o644 });
  fs.cpSync(src1, src2, { recursive: true });
  fs.appendFileSync(path.join(src2, BODY.soul, 'SOUL.md'), '\nThe second body.\n');
  assembleLinuxRoot({ outDir: path.join(base, 'template'), uid: UID });
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
      bodies,
    },
  };
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o644 });
  v1 = await install(src1);
}, 120_000);

afterAll(async () => {
  if (!CAN_RUN) return;
  // Killing a jail's pid 1 ends every process in its pid namespace; its net namespace (and the
  // listening socket made in it) goes with the last process holding it.
  const { linuxBackend } = await import('../../host-helper/jails/linux.ts');
  for (const t of TENANTS) {
    await linuxBackend({ root: jailsRoot, user: 'clawdie' })
      .stop(t)
      .catch(() => undefined);
  }
  for (const l of links) l.close();
  await Promise.all([hive?.stop(), tv?.close()]);
  fs.rmSync(base, { recursive: true, force: true });
});

describe.skipIf(!CAN_RUN)(
  `linux jails on one body end to end (bundles, real bw, hive, namespaces)${SKIP_REASON}`,
  () => {
    it('spawn-agent creates, registers, provisions and boots two jails on the current body; each answers a task', async () => {
      for (const t of TENANTS) {
        const spawned = await host(['spawn-agent', t, '--jail']);
        expect(spawned.code, spawned.stderr).toBe(0);
        expect(JSON.parse(spawned.stdout)).toMatchObject({
          tenant: t,
          jailCreated: true,
          started: true,
          provision: 'written',
          status: 'active',
        });
        // Pid 1 of the jail runs as root only until boot.sh execs the agent as the jail user.
        const init = initPid(t);
        expect(fs.readlinkSync(`/proc/${init}/root`)).toBe(jailRoot(t));
        for (const ns of ['net', 'pid', 'mnt'])
          expect(fs.readlinkSync(`/proc/${init}/ns/${ns}`)).not.toBe(fs.readlinkSync(`/proc/self/ns/${ns}`));
      }
      for (const t of TENANTS) {
        await connect(t);
        const id = await submit(t, 'echo', { hello: `from the host to ${t}` });
        expect(await settled(id)).toMatchObject({
          state: 'succeeded',
          result: { status: 'ok', output: { hello: `from the host to ${t}` } },
        });
        expect(agentLog(t)).toContain(id);
        // Over TLS, trusted by the body's CA file (the agent never fell back to plain http).
        expect(agentLog(t)).toContain('"msg":"hive CA file in use"');
        expect(agentLog(t)).not.toMatch(/refused: the hive/);
      }
      const listed = JSON.parse((await host(['body', 'list'])).stdout) as {
        current: string;
        versions: { version: string; jails: string[] }[];
      };
      expect(listed.current).toBe(v1);
      expect(listed.versions).toEqual([expect.objectContaining({ version: v1, jails: [...TENANTS] })]);
    }, 180_000);

    it('both jails run the same node file from one read-only mount of the body (same inode)', async () => {
      const hostNode = fs.statSync(path.join(bodies, v1, BODY.node));
      const hostBundle = fs.statSync(path.join(bodies, v1, BODY.bundle));
      const seen = [];
      for (const t of TENANTS) {
        // The agent process itself: its executable is the body's node file.
        const exe = fs.statSync(`/proc/${initPid(t)}/exe`);
        expect([exe.dev, exe.ino]).toEqual([hostNode.dev, hostNode.ino]);
        // The jail's mount table: the body version's directory, read-only, nosuid, nodev.
        const m = bodyMount(t);
        expect(m.root).toBe(fs.realpathSync(path.join(bodies, v1)));
        expect(m.options).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev']));
        // From inside: the paths the jail uses are those same files.
        const r = await asJailRoot(
          t,
          `const fs=require('fs');console.log(JSON.stringify(['${inJail(BODY.node)}','${inJail(BODY.bundle)}','/usr/local/bin/node','/lib64'].map(p=>{const s=fs.statSync(p);return [s.dev,s.ino]})))`,
        );
        expect(r.code, r.stderr).toBe(0);
        seen.push(JSON.parse(r.stdout) as number[][]);
      }
      // The same inode in both jails (st_dev inside the namespaces is the same device as well).
      expect(seen[0]).toEqual(seen[1]);
      const [node, bundle, viaLink] = seen[0] as [number[], number[], number[]];
      expect(node?.[1]).toBe(hostNode.ino);
      expect(bundle?.[1]).toBe(hostBundle.ino);
      expect(viaLink).toEqual(node);
    });

    it('nothing in a jail can write the body: its root gets EROFS, cannot remount it or leave its root', async () => {
      for (const t of TENANTS) {
        const tries = [
          `fs.writeFileSync('${BODY_MOUNT}/planted', 'x')`,
          `fs.appendFileSync('${inJail(BODY.bundle)}', 'x')`,
          `fs.chmodSync('${inJail(BODY.node)}', 0o777)`,
          `fs.unlinkSync('${inJail(BODY.manifest)}')`,
          `fs.renameSync('${inJail(BODY.boot)}', '${BODY_MOUNT}/boot2')`,
          `fs.mkdirSync('${inJail(BODY.soul)}/skills/evil')`,
          `fs.utimesSync('${inJail(BODY.rcd)}', 1, 1)`,
        ];
        const script = `const fs=require('fs');const out=[];for(const f of [${tries.map((x) => `()=>${x}`).join(',')}]){try{f();out.push('WROTE')}catch(e){out.push(e.code)}}console.log(JSON.stringify([process.getuid(),out]))`;
        const r = await asJailRoot(t, script);
        expect(r.code, r.stderr).toBe(0);
        // Every change is refused by the read-only mount; opening a 0555 file for writing is refused
        // one step earlier, by its mode (the jail's root has no CAP_DAC_OVERRIDE).
        const [uid, codes] = JSON.parse(r.stdout) as [number, string[]];
        expect(uid).toBe(0);
        expect(codes).toEqual(
          tries.map((x) =>
            x.startsWith('fs.appendFileSync') ? expect.stringMatching(/^(EROFS|EACCES)$/) : 'EROFS',
          ),
        );
        // Its root may not make the mount writable again (no CAP_SYS_ADMIN) …
        const init = String(initPid(t));
        const mountPoint = path.join(jailRoot(t), BODY_MOUNT);
        const remount = await run('nsenter', [
          '--target',
          init,
          '--mount',
          '--',
          ...JAIL_ROOT_SETPRIV,
          'mount',
          '-o',
          'remount,rw,bind',
          mountPoint,
        ]);
        expect(remount.code).not.toBe(0);
        expect(remount.stderr).toMatch(/permission denied|not permitted/i);
        // … nor leave its root for the host's view of the body (no CAP_SYS_CHROOT).
        const leave = await run('nsenter', [
          '--target',
          init,
          '--mount',
          '--',
          ...JAIL_ROOT_SETPRIV,
          'chroot',
          '/',
          '/bin/true',
        ]);
        expect(leave.code).not.toBe(0);
        expect(leave.stderr).toMatch(/not permitted/i);
        expect(bodyMount(t).options).toContain('ro');
      }
      expect(fs.existsSync(path.join(bodies, v1, 'planted'))).toBe(false);
    }, 60_000);

    it('the .env is 0600 and the jail user’s; the agent runs as that user with a clean environment', () => {
      const st = fs.lstatSync(path.join(jailRoot(TENANT), 'home/clawdie/.env'));
      expect([st.isFile(), st.mode & 0o777, st.uid, st.gid]).toEqual([true, 0o600, UID, UID]);
      const init = initPid();
      const status = fs.readFileSync(`/proc/${init}/status`, 'utf8');
      const ids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/m.exec(status);
      expect(ids?.slice(1).map(Number)).toEqual([UID, UID, UID, UID]);
      expect(/^CapEff:\s+0+$/m.test(status)).toBe(true);
      expect(/^CapBnd:\s+0+$/m.test(status)).toBe(true);
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
      for (const t of TENANTS) {
        // Values anywhere under the jail root (the body is not in it on the host: it is only mounted
        // in the jail's namespace); the variable names also in everything the host or agent wrote.
        expect(scanTree(jailRoot(t), [...bootstrap(), tv.appdataDir])).toEqual([]);
        for (const dir of ['home', 'var', 'tmp', 'etc', 'usr/local/etc'])
          expect(scanTree(path.join(jailRoot(t), dir), needles)).toEqual([]);
        const pids = jailPids(t);
        expect(pids.length).toBeGreaterThan(0);
        for (const pid of pids) {
          for (const f of ['cmdline', 'environ']) {
            const text = fs.readFileSync(`/proc/${pid}/${f}`, 'utf8');
            for (const n of needles) expect(text.includes(n), `/proc/${pid}/${f}`).toBe(false);
          }
        }
      }
      expect(scanTree(path.join(bodies, v1), [...bootstrap(), tv.appdataDir])).toEqual([]);
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

    it('body switch moves a jail with a task in flight to a new version: drained restart, task not lost', async () => {
      v2 = await install(path.join(base, 'body-2'));
      expect(v2).not.toBe(v1);
      // The new version stores node once: an unchanged file is the same inode as in the old one.
      expect(fs.statSync(path.join(bodies, v2, BODY.node)).ino).toBe(
        fs.statSync(path.join(bodies, v1, BODY.node)).ino,
      );
      const before = initPid(TENANT);
      const taskId = await submit(TENANT, 'slow-echo', { ms: 4000, n: 1 });
      await until('the slow task to be leased', async () =>
        (await taskState(taskId)).state === 'leased' ? true : undefined,
      );

      const switched = await host(['body', 'switch', v2, TENANT]);
      expect(switched.code, switched.stderr).toBe(0);
      expect(JSON.parse(switched.stdout)).toMatchObject({
        version: v2,
        jails: [{ jail: TENANT, from: v1, to: v2, switched: true }],
      });
      // The old agent drained: it finished the task it held before it stopped.
      expect(await settled(taskId)).toMatchObject({
        state: 'succeeded',
        result: { status: 'ok', output: { ms: 4000, n: 1 } },
      });
      const log = agentLog(TENANT);
      expect(log.indexOf('shutdown requested')).toBeGreaterThan(log.indexOf(taskId));
      // A new pid 1, on the new body; the other jail is still on the old one.
      expect(initPid(TENANT)).not.toBe(before);
      expect(bodyMount(TENANT).root).toBe(fs.realpathSync(path.join(bodies, v2)));
      expect(bodyMount('globex').root).toBe(fs.realpathSync(path.join(bodies, v1)));
      await connect(TENANT);
      const again = await submit(TENANT, 'slow-echo', { ms: 10, n: 2 });
      expect(await settled(again)).toMatchObject({
        state: 'succeeded',
        result: { output: { ms: 10, n: 2 } },
      });
      const soul = await asJailRoot(
        TENANT,
        `process.stdout.write(require('fs').readFileSync('${inJail(BODY.soul)}/SOUL.md','utf8'))`,
      );
      expect(soul.stdout).toContain('The second body.');
    }, 120_000);

    it('body rollback --all puts every jail back on the previous version', async () => {
      const rolled = await host(['body', 'rollback', '--all']);
      expect(rolled.code, rolled.stderr).toBe(0);
      expect(JSON.parse(rolled.stdout)).toMatchObject({
        version: v1,
        jails: [
          { jail: 'acme', from: v2, to: v1, switched: true },
          { jail: 'globex', from: v1, to: v1, switched: false },
        ],
      });
      await connect(TENANT);
      for (const t of TENANTS) expect(bodyMount(t).root).toBe(fs.realpathSync(path.join(bodies, v1)));
      const listed = JSON.parse((await host(['body', 'list'])).stdout) as {
        current: string;
        previous: string;
      };
      expect([listed.current, listed.previous]).toEqual([v1, v2]);
    }, 120_000);

    it('revoking the tenant removes the .env and drains the agent back to awaiting secrets', async () => {
      const revoked = await host(['revoke', TENANT]);
      expect(revoked.code, revoked.stderr).toBe(0);
      expect(JSON.parse(revoked.stdout)).toMatchObject({
        tenant: TENANT,
        envRemoved: true,
        tokenRevoked: true,
      });
      expect(fs.existsSync(path.join(jailRoot(TENANT), 'home/clawdie/.env'))).toBe(false);
      const statusFile = path.join(jailRoot(TENANT), 'var/db/clawdie/status.json');
      await until('the agent to drain to awaitingSecrets', () => {
        const s = JSON.parse(fs.readFileSync(statusFile, 'utf8')) as { state: string };
        return s.state === 'awaitingSecrets' ? s : undefined;
      });
      // The agent is still pid 1 of the jail, waiting; the hive no longer accepts its old token.
      expect(fs.readlinkSync(`/proc/${initPid()}/root`)).toBe(jailRoot(TENANT));
      const listed = await host(['status', TENANT]);
      expect(JSON.parse(listed.stdout)).toMatchObject({ status: 'revoked' });
    }, 60_000);

    it('no output of any process (host CLI, hive, agents) holds the bootstrap', () => {
      const all = [...outputs, hive.output(), ...TENANTS.map((t) => agentLog(t))].join('\n');
      for (const s of bootstrap()) expect(all.includes(s)).toBe(false);
      expect(all).not.toMatch(/BW_SESSION|BW_CLIENTSECRET|BW_PASSWORD/);
    });
  },
);

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
        for (const d of ['bin', 'etc', 'var/log/clawdie', path.dirname(JAIL_INIT).slice(1)])
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
