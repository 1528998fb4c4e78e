// Capability routing with real processes (DESIGN §5): the reference hive and three real
// `clawdie-agent run` processes in separate roots. Agent A (tenant acme) has no renderer; its
// bar-chart skill borrows image-render, which the hive routes to lane B (a shared tenant) — never to
// C, a private agent of tenant `other` that also serves image-render. The PNG comes back through
// the hive to acme, checked by signature and dimensions. The agents register their skills'
// descriptions and input schemas, and each tenant's catalog (HiveClient.capabilities) lists what
// routing would give it: acme sees the lane's image-render, never C's.
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HiveClient } from '../../src/hive/client.ts';
import { ECHO_DESCRIPTOR } from '../../src/skills/descriptors.ts';
import { type HiveProcess, REPO_ROOT, startHive } from '../support/hive-process.ts';
import { type AgentProcess, startAgent as startAgentProcess } from './agent-process.ts';

const SKILLS = path.join(REPO_ROOT, 'skills');
const IMAGE_LAYER = 'usr/local/share/clawdie/soul/skills';

interface Agent extends AgentProcess {
  name: string;
}

let hive: HiveProcess;
let base: string;
const agents: Agent[] = [];
const tokens: Record<string, string> = {};

async function makeRoot(name: string, tenant: string, token: string, skills: string[]): Promise<string> {
  const root = path.join(base, name);
  await mkdir(path.join(root, IMAGE_LAYER), { recursive: true });
  for (const skill of skills)
    await cp(path.join(SKILLS, skill), path.join(root, IMAGE_LAYER, skill), { recursive: true });
  // Lanes ship resvg beside the soul (module resolution walks up from the skill's script).
  await symlink(
    path.join(REPO_ROOT, 'node_modules'),
    path.join(root, 'usr/local/share/clawdie/node_modules'),
  );
  await mkdir(path.join(root, 'home/clawdie'), { recursive: true, mode: 0o700 });
  const env = [
    `CLAWDIE_TENANT=${tenant}`,
    `CLAWDIE_HIVE_URL=${hive.url}`,
    `CLAWDIE_HIVE_TOKEN=${token}`,
    'OPENROUTER_API_KEY=sk-unused-in-this-test-0000000000',
  ];
  await writeFile(path.join(root, 'home/clawdie/.env'), `${env.join('\n')}\n`, { mode: 0o600 });
  return root;
}

function startAgent(name: string, root: string): Agent {
  const agent = { name, ...startAgentProcess(root, { env: { CLAWDIE_LOG_LEVEL: 'info' } }) };
  agents.push(agent);
  return agent;
}

async function api<T>(
  method: string,
  url: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const res = await fetch(`${hive.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, tries = 300): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `timed out waiting for ${what}\n${agents.map((a) => `--- ${a.name}\n${a.output()}`).join('\n')}`,
  );
}

interface TaskView {
  state: string;
  result?: { status: string; output: unknown };
}

async function submitAndWait(
  token: string,
  capability: string,
  input: unknown,
): Promise<{ taskId: string; view: TaskView }> {
  const submitted = await api<{ taskId: string }>('POST', '/v1/tasks', token, {
    capability,
    input,
    ttlSeconds: 60,
  });
  expect(submitted.status).toBeLessThan(300);
  const { taskId } = submitted.json;
  const view = await until(`task ${taskId}`, async () => {
    const got = await api<TaskView>('GET', `/v1/tasks/${taskId}`, token);
    return ['succeeded', 'failed', 'expired'].includes(got.json.state) ? got.json : undefined;
  });
  return { taskId, view };
}

function png(base64: string): { signature: string; width: number; height: number } {
  const bytes = Buffer.from(base64, 'base64');
  return {
    signature: bytes.subarray(0, 8).toString('hex'),
    width: bytes.readUInt32BE(16),
    height: bytes.readUInt32BE(20),
  };
}

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'clawdie-routing-'));
  hive = await startHive();
  tokens.acme = await hive.mintToken('acme');
  tokens.lane = await hive.mintToken('lane-render', { shared: true });
  tokens.other = await hive.mintToken('other');
  startAgent('A', await makeRoot('a', 'acme', tokens.acme, ['bar-chart']));
  startAgent('B', await makeRoot('b', 'lane-render', tokens.lane, ['image-render']));
  startAgent('C', await makeRoot('c', 'other', tokens.other, ['image-render']));
  await until('three live agents', async () => {
    const { json } = await api<{ agents: { tenant: string; capabilities: string[]; state: string }[] }>(
      'GET',
      '/v1/admin/agents',
      hive.adminToken,
    );
    const live = json.agents.filter((a) => a.state === 'live');
    return live.length === 3 ? live : undefined;
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(
    agents.map(
      (a) =>
        new Promise<void>((resolve) => {
          if (a.child.exitCode !== null) return resolve();
          const force = setTimeout(() => a.child.kill('SIGKILL'), 15_000);
          a.child.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          a.child.kill('SIGTERM');
        }),
    ),
  );
  await hive?.stop();
  await rm(base, { recursive: true, force: true });
});

describe('borrowing a capability through the hive', () => {
  it('registers each agent with the capabilities of its own skills', async () => {
    const { json } = await api<{ agents: { tenant: string; capabilities: string[] }[] }>(
      'GET',
      '/v1/admin/agents',
      hive.adminToken,
    );
    const byTenant = Object.fromEntries(json.agents.map((a) => [a.tenant, [...a.capabilities].sort()]));
    expect(byTenant).toEqual({
      acme: ['bar-chart', 'echo'],
      'lane-render': ['echo', 'image-render'],
      other: ['echo', 'image-render'],
    });
  });

  it('each tenant’s catalog lists what routing gives it, described by the agents’ skills', async () => {
    const schemaOf = async (skill: string) =>
      JSON.parse(await readFile(path.join(SKILLS, skill, 'schema.json'), 'utf8')) as Record<string, unknown>;
    const catalogOf = async (token: string) => {
      const client = new HiveClient({ baseUrl: () => hive.url, token: () => token });
      try {
        return (await client.capabilities()).capabilities;
      } finally {
        await client.close();
      }
    };
    expect(await catalogOf(tokens.acme!)).toEqual([
      {
        name: 'bar-chart',
        description: expect.stringMatching(/^Draws a bar chart/),
        inputSchema: await schemaOf('bar-chart'),
        servedBy: ['own'],
        liveAgents: 1,
      },
      { ...ECHO_DESCRIPTOR, servedBy: ['own', 'lane'], liveAgents: 2 },
      // The lane's only: C serves image-render too, but not for acme.
      {
        name: 'image-render',
        description: expect.stringMatching(/^Renders an SVG/),
        inputSchema: await schemaOf('image-render'),
        servedBy: ['lane'],
        liveAgents: 1,
      },
    ]);
    const other = await catalogOf(tokens.other!);
    expect(other.map((e) => [e.name, e.servedBy, e.liveAgents])).toEqual([
      ['echo', ['own', 'lane'], 2],
      ['image-render', ['own', 'lane'], 2],
    ]);
  });

  it("acme's chart is rendered by the shared lane and the PNG comes back through the hive", async () => {
    const { view } = await submitAndWait(tokens.acme!, 'bar-chart', {
      title: 'Hive load',
      values: { mon: 3, tue: 9, wed: 4, thu: 12 },
      width: 400,
    });
    expect(view.state).toBe('succeeded');
    const output = view.result!.output as {
      bars: number;
      png: { format: string; width: number; height: number; base64: string };
    };
    expect(output.bars).toBe(4);
    expect(output.png).toMatchObject({ format: 'png', width: 400, height: 240 });
    expect(png(output.png.base64)).toEqual({ signature: '89504e470d0a1a0a', width: 400, height: 240 });
  });

  it("acme's direct image-render tasks go to the lane, never to the other tenant's private agent", async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="16"><rect width="32" height="16"/></svg>';
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { taskId, view } = await submitAndWait(tokens.acme!, 'image-render', { svg });
      expect(view.state).toBe('succeeded');
      expect(png((view.result!.output as { base64: string }).base64)).toMatchObject({
        width: 32,
        height: 16,
      });
      ids.push(taskId);
    }
    const [, b, c] = agents;
    for (const id of ids) expect(b!.output()).toContain(id);
    // C ran nothing at all: neither the borrowed render of the chart nor these.
    expect(c!.output()).not.toMatch(/running skill/);
    for (const id of ids) expect(c!.output()).not.toContain(id);

    // C itself works: its own tenant's task is served (by C or by the lane).
    const own = await submitAndWait(tokens.other!, 'image-render', { svg });
    expect(own.view.state).toBe('succeeded');
  });

  it('an agent cannot serve a capability it lacks: acme has no renderer of its own', async () => {
    const [a] = agents;
    expect(a!.output()).not.toMatch(/"skill":"image-render"/);
  });
});
