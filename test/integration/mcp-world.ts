// Test support for the MCP door's integration tests: a hive (one SQLite process, or replicas over
// PostgreSQL) with real `clawdie-agent run` processes — acme (chat on the fake LLM provider,
// bar-chart, a test `slow` skill that waits and can be cancelled), a shared lane (image-render) and
// globex (a private `globex-secret`) — plus SDK clients over HTTP in either protocol era. The agents
// heartbeat every second, so a cancel reaches a running skill within a second or two.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { type FakeLlm, startFakeLlm } from '../../host-helper/demo/services/fake-llm.ts';
import { bearerJson } from '../support/bearer-json.ts';
import { nodeBinary, REPO_ROOT } from '../support/hive-process.ts';
import { type AgentProcess, startAgent } from './agent-process.ts';

const IMAGE_LAYER = 'usr/local/share/clawdie/soul/skills';

/** A script skill that answers its input after `input.ms` milliseconds (killed when cancelled). */
const SLOW_SCRIPT = `const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const { input } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
setTimeout(() => process.stdout.write(JSON.stringify({ waited: input?.ms ?? 0 })), Number(input?.ms ?? 0));
`;

const slowSkill = (name: string): string => `---
name: ${name}
description: Waits for input.ms milliseconds, then answers how long it waited (a test skill).
metadata:
  capabilities: ${name}
  runs: script
  entry: slow.mjs
  timeout-seconds: "300"
---
Waits.
`;

interface AgentSpec {
  tenant: string;
  token: string;
  skills: string[];
  /** Test skills written into the root (name → SKILL.md + scripts/slow.mjs). */
  slow?: string[];
}

export interface RunningAgent extends AgentProcess {
  tenant: string;
}

export interface McpWorld {
  /** A temp dir the world removes (token files live here). */
  dir: string;
  /** Where agents are told the hive is. */
  agentUrl: string;
  /** Base URLs MCP clients may use (one per replica). */
  mcpUrls: string[];
  adminToken: string;
  tokens: { acme: string; lane: string; globex: string };
  fake: FakeLlm;
  agents: RunningAgent[];
  stop(): Promise<void>;
}

export interface HiveHandle {
  urls: string[];
  adminToken: string;
  mintToken(tenant: string, o?: { shared?: boolean }): Promise<string>;
  stop(): Promise<void>;
}

async function makeRoot(base: string, spec: AgentSpec, hiveUrl: string, fake: FakeLlm): Promise<string> {
  const root = path.join(base, spec.tenant);
  const skills = path.join(root, IMAGE_LAYER);
  await mkdir(skills, { recursive: true });
  for (const s of spec.skills)
    await cp(path.join(REPO_ROOT, 'skills', s), path.join(skills, s), { recursive: true });
  for (const s of spec.slow ?? []) {
    await mkdir(path.join(skills, s, 'scripts'), { recursive: true });
    await writeFile(path.join(skills, s, 'SKILL.md'), slowSkill(s));
    await writeFile(path.join(skills, s, 'scripts', 'slow.mjs'), SLOW_SCRIPT);
  }
  // Lanes ship resvg beside the soul (module resolution walks up from the skill's script).
  await symlink(
    path.join(REPO_ROOT, 'node_modules'),
    path.join(root, 'usr/local/share/clawdie/node_modules'),
  );
  await mkdir(path.join(root, 'home/clawdie'), { recursive: true, mode: 0o700 });
  const env = [
    `CLAWDIE_TENANT=${spec.tenant}`,
    `CLAWDIE_HIVE_URL=${hiveUrl}`,
    `CLAWDIE_HIVE_TOKEN=${spec.token}`,
    'OPENROUTER_API_KEY=sk-mcp-test-0000000000000000',
    `OPENROUTER_BASE_URL=${fake.url}`,
  ];
  await writeFile(path.join(root, 'home/clawdie/.env'), `${env.join('\n')}\n`, { mode: 0o600 });
  return root;
}

export async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the fake provider and the three agents against `hive` (which the world then owns). */
export async function startWorld(hive: HiveHandle): Promise<McpWorld> {
  const base = await mkdtemp(path.join(tmpdir(), 'clawdie-mcp-'));
  const fake = await startFakeLlm();
  const tokens = {
    acme: await hive.mintToken('acme'),
    lane: await hive.mintToken('lane-render', { shared: true }),
    globex: await hive.mintToken('globex'),
  };
  const agentUrl = hive.urls[0]!;
  const specs: AgentSpec[] = [
    { tenant: 'acme', token: tokens.acme, skills: ['chat', 'bar-chart'], slow: ['slow'] },
    { tenant: 'lane-render', token: tokens.lane, skills: ['image-render'] },
    { tenant: 'globex', token: tokens.globex, skills: [], slow: ['globex-secret'] },
  ];
  const agents = await Promise.all(
    specs.map(
      async (s): Promise<RunningAgent> => ({
        tenant: s.tenant,
        ...startAgent(await makeRoot(base, s, agentUrl, fake), { env: { CLAWDIE_LOG_LEVEL: 'info' } }),
      }),
    ),
  );
  const stop = async (): Promise<void> => {
    await Promise.all(
      agents.map(
        (a) =>
          new Promise<void>((resolve) => {
            if (a.child.exitCode !== null) return resolve();
            const force = setTimeout(() => a.child.kill('SIGKILL'), 10_000);
            a.child.once('exit', () => {
              clearTimeout(force);
              resolve();
            });
            a.child.kill('SIGTERM');
          }),
      ),
    );
    await fake.close();
    await hive.stop();
    await rm(base, { recursive: true, force: true });
  };
  try {
    await until('three live agents', async () => {
      const r = await bearerJson<{ agents: { state: string }[] }>(
        agentUrl,
        'GET',
        '/v1/admin/agents',
        hive.adminToken,
      );
      return r.json.agents.filter((a) => a.state === 'live').length === 3 ? true : undefined;
    });
  } catch (err) {
    const logs = agents.map((a) => `--- ${a.tenant}\n${a.output().slice(-2000)}`).join('\n');
    await stop();
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
  return { dir: base, agentUrl, mcpUrls: hive.urls, adminToken: hive.adminToken, tokens, fake, agents, stop };
}

export type Era = 'legacy' | 'modern';

/** An SDK client connected to `<url>/mcp` with `token`; `fetch` may steer requests (replicas). */
export async function httpClient(
  url: string,
  token: string | null,
  era: Era,
  o: { fetch?: typeof fetch } = {},
): Promise<Client> {
  const client = new Client(
    { name: 'mcp-test', version: '1.0.0' },
    era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
  );
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    ...(token === null ? {} : { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
    ...(o.fetch ? { fetch: o.fetch } : {}),
  });
  await client.connect(transport);
  return client;
}

/** A task as the tenant reads it through the REST API. */
export async function taskState(url: string, token: string, taskId: string): Promise<string> {
  return (await bearerJson<{ state: string }>(url, 'GET', `/v1/tasks/${taskId}`, token)).json.state;
}

/** The task id a progress message names (`task <id> <state>`). */
export const taskOfProgress = (message: string | undefined): string | undefined =>
  /^task ([A-Za-z0-9-]+) /.exec(message ?? '')?.[1];

/** Writes a token file the bridge reads (`*.token`: the leak scan's place for tokens). */
export async function tokenFile(dir: string, name: string, token: string, mode = 0o600): Promise<string> {
  const file = path.join(dir, `${name}.token`);
  await writeFile(file, `${token}\n`, { mode });
  return file;
}

/** `clawdie-host mcp …` as a real child process (argv, stderr kept), with the env a client gives it. */
export function bridgeArgs(
  hiveUrl: string,
  file: string,
  extra: string[] = [],
): { command: string; args: string[] } {
  return {
    command: nodeBinary(),
    args: [
      path.join(REPO_ROOT, 'host-helper/cli.ts'),
      'mcp',
      '--hive',
      hiveUrl,
      '--token-file',
      file,
      ...extra,
    ],
  };
}

/** Runs the bridge to its end (here it fails at start), with stdin open as a client would keep it. */
export function runBridge(
  hiveUrl: string,
  file: string,
  extra: string[] = [],
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const { command, args } = bridgeArgs(hiveUrl, file, extra);
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr, stdout })));
}

export interface BridgeClient {
  client: Client;
  /** What the bridge wrote on stderr so far. */
  stderr(): string;
  /** The bridge's command line as the kernel shows it (read while it runs). */
  argv: string;
}

/** An SDK client that launches the stdio bridge to `hiveUrl` with the token in `file`. */
export async function bridgeClient(
  hiveUrl: string,
  file: string,
  extra: string[] = [],
): Promise<BridgeClient> {
  const transport = new StdioClientTransport({
    ...bridgeArgs(hiveUrl, file, extra),
    env: { PATH: process.env.PATH ?? '' },
    cwd: REPO_ROOT,
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const client = new Client({ name: 'mcp-test-stdio', version: '1.0.0' });
  await client.connect(transport);
  const argv = readFileSync(`/proc/${transport.pid}/cmdline`, 'utf8').split('\0').join(' ');
  return { client, stderr: () => err, argv };
}
