// Test support for the tool-loop integration tests: a jail-like root holding shipped skills and
// small script or prompt skills written on the spot, its `.env` pointing at the hive and the fake
// provider, and the agent started as a real process (agent-process.ts). Script skills read their
// envelope `{task, agent, input}` from stdin and print JSON.
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../support/hive-process.ts';
import { type AgentProcess, API_KEY, startAgent } from './agent-process.ts';

const IMAGE_LAYER = 'usr/local/share/clawdie/soul/skills';

export interface TestSkill {
  name: string;
  description?: string;
  /** metadata (capabilities defaults to the name). */
  metadata?: Record<string, string>;
  /** A script skill's code (scripts/run.mjs); without it the skill is a prompt skill. */
  script?: string;
  body?: string;
}

/** The first lines of every test script: `input` is the task input. */
export const READ_INPUT =
  'const c=[];for await (const x of process.stdin) c.push(x);const {input}=JSON.parse(Buffer.concat(c).toString());';

async function writeSkill(layerDir: string, skill: TestSkill): Promise<void> {
  const dir = path.join(layerDir, skill.name);
  await mkdir(path.join(dir, 'scripts'), { recursive: true });
  const metadata = {
    capabilities: skill.name,
    ...(skill.script ? { runs: 'script', entry: 'run.mjs' } : { runs: 'prompt' }),
    ...skill.metadata,
  };
  const meta = Object.entries(metadata).map(([k, v]) => `  ${k}: "${v}"`);
  const head = `---\nname: ${skill.name}\ndescription: ${skill.description ?? `test ${skill.name}`}\nmetadata:\n${meta.join('\n')}\n---\n`;
  await writeFile(path.join(dir, 'SKILL.md'), `${head}${skill.body ?? ''}\n`);
  if (skill.script) await writeFile(path.join(dir, 'scripts/run.mjs'), skill.script);
}

export interface LoopAgentOptions {
  tenant: string;
  hiveUrl: string;
  token: string;
  /** OPENROUTER_BASE_URL: the fake provider (a path of its own per agent, to tell agents apart). */
  llmUrl: string;
  shipped?: string[];
  skills?: TestSkill[];
  env?: Record<string, string>;
}

export async function startLoopAgent(base: string, name: string, o: LoopAgentOptions): Promise<AgentProcess> {
  const root = await mkdtemp(path.join(base, `${name}-`));
  const layer = path.join(root, IMAGE_LAYER);
  await mkdir(layer, { recursive: true });
  for (const s of o.shipped ?? [])
    await cp(path.join(REPO_ROOT, 'skills', s), path.join(layer, s), { recursive: true });
  for (const s of o.skills ?? []) await writeSkill(layer, s);
  await mkdir(path.join(root, 'home/clawdie'), { recursive: true, mode: 0o700 });
  const env = {
    CLAWDIE_TENANT: o.tenant,
    CLAWDIE_HIVE_URL: o.hiveUrl,
    CLAWDIE_HIVE_TOKEN: o.token,
    OPENROUTER_API_KEY: API_KEY,
    OPENROUTER_BASE_URL: o.llmUrl,
    ...o.env,
  };
  const text = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  await writeFile(path.join(root, 'home/clawdie/.env'), `${text.join('\n')}\n`, { mode: 0o600 });
  return startAgent(root, { env: { CLAWDIE_LOG_LEVEL: 'info' } });
}

export const tempBase = (): Promise<string> => mkdtemp(path.join(tmpdir(), 'clawdie-loop-'));
