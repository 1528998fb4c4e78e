// The spawn policy end to end (DESIGN §8) against the real hive process: refused by default, each
// limit enforced over HTTP, an allowed spawn carried out by the executor from the policy file (a
// recording script here, `clawdie-host spawn-agent` in production) with a minimal environment, the
// mother skill asking for a worker through the agent (its script sees no hive token), also from a
// real agent trusting a TLS hive by a pin alone, and revoking a parent cascading to children and
// grandchildren.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HiveClient } from '../../src/hive/client.ts';
import { isTerminal } from '../../src/protocol/index.ts';
import { loadSkillRunner } from '../../src/skills/runner.ts';
import { bearerJson } from '../support/bearer-json.ts';
import { type HiveProcess, nodeBinary, REPO_ROOT, startHive } from '../support/hive-process.ts';
import { makeServerPair, makeTestCa, writePair } from '../support/test-ca.ts';
import {
  envText,
  makeRoot,
  readStatus,
  removeRoot,
  startAgent,
  waitUntil,
  writeEnv,
} from './agent-process.ts';

let dir: string;
const hives: HiveProcess[] = [];

const RECORDER = `import { appendFileSync, existsSync } from 'node:fs';
const [log, failFlag, ...args] = process.argv.slice(2);
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
appendFileSync(log, JSON.stringify({ args, stdin: JSON.parse(Buffer.concat(chunks).toString()), env: process.env }) + '\\n');
process.exit(existsSync(failFlag) ? 7 : 0);
`;

interface Recorded {
  args: string[];
  stdin: { child: string; tenant: string; parent: string; capabilities: string[]; depth: number };
  env: Record<string, string>;
}

async function policyHive(
  name: string,
  policy: Record<string, unknown> | null,
  tls?: { certFile: string; keyFile: string; ca: string },
) {
  const record = path.join(dir, `${name}.log`);
  const failFlag = path.join(dir, `${name}.fail`);
  let spawnPolicyFile: string | undefined;
  if (policy) {
    spawnPolicyFile = path.join(dir, `${name}.json`);
    const executor = {
      command: [
        nodeBinary(),
        path.join(dir, 'recorder.mjs'),
        record,
        failFlag,
        'spawn-agent',
        '{child}',
        '--jail',
        '--collection',
        '{tenant}',
        '--caps={capabilities}',
      ],
      passEnv: ['SPAWN_VISIBLE'],
      timeoutSeconds: 20,
    };
    await writeFile(spawnPolicyFile, JSON.stringify({ ...policy, executor }), { mode: 0o600 });
  }
  const hive = await startHive({
    ...(spawnPolicyFile ? { spawnPolicyFile } : {}),
    ...(tls ? { tls } : {}),
    env: { SPAWN_VISIBLE: 'passed-on', SPAWN_HIDDEN: 'not-passed' },
  });
  hives.push(hive);
  const recorded = async (): Promise<Recorded[]> =>
    existsSync(record)
      ? (await readFile(record, 'utf8'))
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Recorded)
      : [];
  return { hive, recorded, failFlag };
}

const call = (hive: HiveProcess, method: string, url: string, token: string, body?: unknown) =>
  bearerJson(hive.url, method, url, token, body);

async function register(
  hive: HiveProcess,
  token: string,
  tenant: string,
  agentId: string,
  capabilities: string[],
) {
  const r = await call(hive, 'POST', '/v1/agents', token, {
    agentId,
    tenant,
    capabilities,
    identityHash: 'a'.repeat(64),
    version: 'test',
    os: 'linux',
  });
  expect(r.status).toBe(200);
}

/** The environment of this process's child running `script` (Linux /proc), or {} when there is none. */
async function environOfChild(script: string): Promise<Record<string, string>> {
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (ppid !== process.pid || !cmdline.includes(script)) continue;
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8');
    return Object.fromEntries(
      environ
        .split('\0')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
  }
  return {};
}

const spawnAs = (hive: HiveProcess, token: string, parent: string, capabilities: string[]) =>
  call(hive, 'POST', '/v1/spawn', token, { parent, capabilities });

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'clawdie-spawn-'));
  await writeFile(path.join(dir, 'recorder.mjs'), RECORDER);
});
afterAll(async () => {
  await Promise.all(hives.map((h) => h.stop()));
  await rm(dir, { recursive: true, force: true });
});

describe('spawn policy', () => {
  it('is refused by default (no policy file) and by a file that does not enable it', async () => {
    for (const { hive } of [await policyHive('none', null), await policyHive('off', { maxDepth: 3 })]) {
      const token = await hive.mintToken('acme');
      await register(hive, token, 'acme', 'queen', ['spawn', 'chat']);
      const r = await spawnAs(hive, token, 'queen', ['chat']);
      expect(r.status).toBe(403);
      expect(r.json).toEqual({ error: { code: 'forbidden', message: 'spawn policy disabled' } });
      const listed = await call(hive, 'GET', '/v1/admin/tenants/acme/descendants', hive.adminToken);
      expect(listed).toEqual({ status: 200, json: { tenants: [] } });
    }
  });

  it('enforces each limit; an allowed spawn runs the executor with a minimal environment', async () => {
    const { hive, recorded, failFlag } = await policyHive('limits', {
      enabled: true,
      maxDepth: 1,
      maxChildrenPerParent: 2,
      maxTotalPerTenant: 3,
      rate: { count: 5, perSeconds: 3600 },
    });
    const acme = await hive.mintToken('acme');
    const other = await hive.mintToken('other');
    await register(hive, acme, 'acme', 'queen', ['spawn', 'chat', 'image-render']);
    await register(hive, acme, 'acme', 'queen-two', ['spawn', 'chat']);
    await register(hive, acme, 'acme', 'drone', ['chat']);
    await register(hive, other, 'other', 'stranger', ['spawn', 'chat']);

    const first = await spawnAs(hive, acme, 'queen', ['chat', 'echo']);
    expect(first.status).toBe(201);
    expect(first.json).toEqual({
      child: expect.stringMatching(/^acme-[0-9a-f]{8}$/),
      depth: 1,
      capabilities: ['chat', 'echo'],
    });
    const [run] = await recorded();
    expect(run!.args).toEqual([
      'spawn-agent',
      first.json.child,
      '--jail',
      '--collection',
      'acme',
      '--caps=chat,echo',
    ]);
    expect(run!.stdin).toEqual({
      child: first.json.child,
      tenant: 'acme',
      root: 'acme',
      parent: 'queen',
      capabilities: ['chat', 'echo'],
      depth: 1,
    });
    expect(Object.keys(run!.env).sort()).toEqual(['PATH', 'SPAWN_VISIBLE']);
    expect(JSON.stringify(run)).not.toContain(hive.adminToken);

    const denied = async (token: string, parent: string, caps: string[], reason: RegExp) => {
      const r = await spawnAs(hive, token, parent, caps);
      expect(r.status).toBe(403);
      expect(r.json.error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(reason) });
    };
    await denied(acme, 'queen', ['gpu'], /capability gpu is not held by the parent/);
    await denied(acme, 'drone', ['chat'], /does not hold the spawn capability/);
    await denied(other, 'queen', ['chat'], /not an agent of this tenant/);
    await denied(hive.adminToken, 'queen', ['chat'], /not the admin/);

    // A failed executor: 503, the child does not count, the attempt does (rate).
    await writeFile(failFlag, '');
    const failed = await spawnAs(hive, acme, 'queen', ['chat']);
    expect(failed.status).toBe(503);
    expect(failed.json.error).toMatchObject({ message: 'spawn failed: executor exited with 7' });
    await rm(failFlag);

    expect((await spawnAs(hive, acme, 'queen', ['chat'])).status).toBe(201);
    await denied(acme, 'queen', ['chat'], /parent already has 2 children \(limit 2\)/);
    expect((await spawnAs(hive, acme, 'queen-two', ['chat'])).status).toBe(201);
    await denied(acme, 'queen-two', ['chat'], /tenant already has 3 spawned agents \(limit 3\)/);
    expect((await recorded()).length).toBe(4);

    // A child registers only what it was granted (chat, echo), whatever its image carries.
    const child = first.json.child as string;
    const childToken = await hive.mintToken(child);
    await register(hive, childToken, child, 'child-worker', ['chat', 'image-render', 'spawn']);
    const agents = await call(hive, 'GET', '/v1/admin/agents', hive.adminToken);
    const worker = (agents.json.agents as { agentId: string; capabilities: string[] }[]).find(
      (a) => a.agentId === 'child-worker',
    );
    expect([...worker!.capabilities].sort()).toEqual(['chat']);
    // So it cannot act as a queen: it holds no spawn (and would be generation 2 > maxDepth 1 anyway).
    await denied(childToken, 'child-worker', ['chat'], /does not hold the spawn capability/);

    // The other tenant has its own budget.
    expect((await spawnAs(hive, other, 'stranger', ['chat'])).status).toBe(201);
  });

  it('enforces the rate limit per tenant', async () => {
    const { hive } = await policyHive('rate', {
      enabled: true,
      maxChildrenPerParent: 100,
      maxTotalPerTenant: 100,
      rate: { count: 2, perSeconds: 3600 },
    });
    const acme = await hive.mintToken('acme');
    await register(hive, acme, 'acme', 'queen', ['spawn', 'chat']);
    expect((await spawnAs(hive, acme, 'queen', [])).status).toBe(201);
    expect((await spawnAs(hive, acme, 'queen', [])).status).toBe(201);
    const third = await spawnAs(hive, acme, 'queen', []);
    expect(third.status).toBe(403);
    expect(third.json.error).toMatchObject({ message: 'rate limit: at most 2 spawns per 3600 s' });
  });

  it('the mother skill asks for a worker; revoking the parent cascades to children and grandchildren', async () => {
    const { hive } = await policyHive('cascade', {
      enabled: true,
      maxDepth: 2,
      maxChildrenPerParent: 5,
      maxTotalPerTenant: 5,
    });
    const acme = await hive.mintToken('acme');
    await register(hive, acme, 'acme', 'queen', ['spawn', 'chat']);

    // mother runs as a real script skill; the runner answers its spawn line through a HiveClient.
    const root = path.join(dir, 'mother-root');
    await mkdir(path.join(root, 'usr/local/share/clawdie/soul'), { recursive: true });
    await symlink(path.join(REPO_ROOT, 'skills'), path.join(root, 'usr/local/share/clawdie/soul/skills'));
    const env = { CLAWDIE_TENANT: 'acme', CLAWDIE_HIVE_URL: hive.url, CLAWDIE_HIVE_TOKEN: acme };
    const runner = await loadSkillRunner({ root, env });
    expect(runner.capabilities()).toContain('spawn');
    const client = new HiveClient({ baseUrl: () => hive.url, token: () => acme });
    let scriptEnv: Record<string, string> = {};
    const result = await runner.run(
      {
        taskId: 'spawn-1',
        capability: 'spawn',
        input: { capabilities: ['chat', 'spawn'] },
        leaseSeconds: 60,
      },
      {
        signal: new AbortController().signal,
        env,
        agentId: 'queen',
        borrow: async () => ({ status: 'error' as const, output: null }),
        spawn: async (capabilities, signal) => {
          // The script is waiting for this answer: read its environment from /proc meanwhile.
          scriptEnv = await environOfChild('mother/scripts/spawn.mjs');
          return client.spawn({ parent: 'queen', capabilities: [...capabilities] }, signal);
        },
      },
    );
    await client.close();
    expect(Object.keys(scriptEnv)).toContain('PATH');
    expect(JSON.stringify(scriptEnv)).not.toContain(acme);
    expect(Object.keys(scriptEnv).filter((k) => k.startsWith('CLAWDIE_'))).toEqual([]);
    expect(result).toEqual({
      status: 'ok',
      output: { child: expect.stringMatching(/^acme-/), depth: 1, capabilities: ['chat', 'spawn'] },
    });
    const child = (result.output as { child: string }).child;

    // The host's spawn-agent would mint the child's token; here the test does.
    const childToken = await hive.mintToken(child);
    await register(hive, childToken, child, 'child-queen', ['spawn', 'chat']);
    const grand = await spawnAs(hive, childToken, 'child-queen', ['chat']);
    expect(grand.status).toBe(201);
    expect(grand.json.depth).toBe(2);
    const grandToken = await hive.mintToken(grand.json.child as string);
    const unrelated = await hive.mintToken('bystander');
    for (const t of [childToken, grandToken, unrelated]) {
      expect((await call(hive, 'GET', '/v1/tasks/does-not-exist', t)).status).toBe(404);
    }

    expect((await call(hive, 'DELETE', '/v1/admin/tenants/acme/token', hive.adminToken)).status).toBe(204);
    for (const t of [acme, childToken, grandToken]) {
      expect((await call(hive, 'GET', '/v1/tasks/does-not-exist', t)).status).toBe(401);
    }
    expect((await call(hive, 'GET', '/v1/tasks/does-not-exist', unrelated)).status).toBe(404);
    expect(hive.output()).toMatch(/revoked spawned descendants/);
  });

  it('a real agent trusting a TLS hive by a pin alone spawns through its mother skill', async () => {
    const ca = await makeTestCa();
    const pair = await makeServerPair(ca);
    const files = writePair(dir, pair, 'tls-');
    const { hive, recorded } = await policyHive(
      'tls',
      { enabled: true },
      { certFile: files.cert, keyFile: files.key, ca: ca.cert },
    );
    const token = await hive.mintToken('acme');
    const root = makeRoot();
    await mkdir(path.join(root, 'usr/local/share/clawdie/soul'), { recursive: true });
    await symlink(path.join(REPO_ROOT, 'skills'), path.join(root, 'usr/local/share/clawdie/soul/skills'));
    // No CA file in the soul layers: the test CA is unknown to the agent, only the pin trusts the hive.
    writeEnv(root, `${envText({ url: hive.url, token })}CLAWDIE_HIVE_TLS_PIN=${pair.pin}\n`);
    const agent = startAgent(root);
    const client = new HiveClient({
      baseUrl: () => hive.url,
      token: () => token,
      trust: () => ({ ca: ca.cert }),
    });
    try {
      await agent.waitState('running', 20_000);
      const { taskId } = await client.submitTask({ capability: 'spawn', input: { capabilities: ['chat'] } });
      const done = await waitUntil(async () => {
        const view = await client.getTask(taskId);
        return isTerminal(view.state) ? view : undefined;
      }, 'the spawn task');
      expect(done.result).toEqual({
        status: 'ok',
        output: { child: expect.stringMatching(/^acme-[0-9a-f]{8}$/), depth: 1, capabilities: ['chat'] },
      });
      expect((await recorded()).map((r) => r.stdin.parent)).toEqual([readStatus(root)?.agentId]);
      expect(agent.output()).not.toContain(token);
    } finally {
      await Promise.all([agent.kill(), client.close()]);
      removeRoot(root);
    }
  }, 60_000);
});
