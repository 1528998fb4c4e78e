// Running skills for real: script skills as child processes (env isolation, timeout killing the whole
// process group, output cap, working dir, the borrow and spawn requests), the shipped image-render producing a
// real PNG, and a prompt skill answered by the fake LLM server over real SSE.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeLlm, startFakeLlm } from '../../host-helper/demo/services/fake-llm.ts';
import type { TaskAssignment } from '../../src/protocol/index.ts';
import { loadSkillRunner, type SkillRunner } from '../../src/skills/runner.ts';
import type { TaskContext } from '../../src/skills/task-runner.ts';
import { REPO_ROOT } from '../support/hive-process.ts';

let root: string;
let fake: FakeLlm;
let runner: SkillRunner;
const LLM_KEY = 'sk-or-test-skills-run-000111222333';
const env: Record<string, string> = {
  DECLARED_ONE: 'visible-value',
  SECRET_OTHER: 'must-not-be-seen',
  OPENROUTER_API_KEY: LLM_KEY,
  PID_FILE: '',
};

const agentLayer = (): string => path.join(root, 'var/db/clawdie/soul/skills');

async function scriptSkill(name: string, metadata: Record<string, string>, entry: string, code: string) {
  const dir = path.join(agentLayer(), name);
  await mkdir(path.join(dir, 'scripts'), { recursive: true });
  const meta = Object.entries({ capabilities: name, runs: 'script', entry, ...metadata }).map(
    ([k, v]) => `  ${k}: "${v}"`,
  );
  await writeFile(
    path.join(dir, 'SKILL.md'),
    `---\nname: ${name}\ndescription: test ${name}\nmetadata:\n${meta.join('\n')}\n---\n`,
  );
  await writeFile(path.join(dir, 'scripts', entry), code);
}

const READ_STDIN = `const c=[];for await (const x of process.stdin) c.push(x);const env=JSON.parse(Buffer.concat(c).toString());`;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'clawdie-skills-run-'));
  fake = await startFakeLlm({ apiKey: LLM_KEY });
  env.OPENROUTER_BASE_URL = fake.url;
  env.PID_FILE = path.join(root, 'grandchild.pid');
  // The shipped skills are the image layer (as in the image); resvg resolves from the checkout.
  await mkdir(path.join(root, 'usr/local/share/clawdie/soul'), { recursive: true });
  await symlink(path.join(REPO_ROOT, 'skills'), path.join(root, 'usr/local/share/clawdie/soul/skills'));
  await scriptSkill(
    'print-env',
    { env: 'DECLARED_ONE' },
    'env.mjs',
    `${READ_STDIN}
process.stdout.write(JSON.stringify({ env: process.env, cwd: process.cwd(), envelope: env }));`,
  );
  await scriptSkill(
    'print-env-sh',
    { env: 'DECLARED_ONE' },
    'env.sh',
    'cat >/dev/null; printf "{\\"names\\":\\"%s\\"}" "$(env | cut -d= -f1 | tr "\\n" " ")"\n',
  );
  await scriptSkill(
    'hang',
    { env: 'PID_FILE' },
    'hang.mjs',
    `import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const g = spawn('/bin/sleep', ['1000'], { stdio: 'ignore' });
writeFileSync(process.env.PID_FILE, String(g.pid));
setInterval(() => {}, 1000);`,
  );
  await scriptSkill(
    'flood',
    {},
    'flood.mjs',
    `const s='x'.repeat(65536);for(let i=0;i<40;i++) process.stdout.write(s);`,
  );
  await scriptSkill('not-json', {}, 'bad.sh', 'echo "this is not json"\n');
  await scriptSkill(
    'fails',
    {},
    'fail.mjs',
    `process.stdout.write(JSON.stringify({ message: 'nope' })); process.exit(3);`,
  );
  await scriptSkill(
    'sneaky-borrow',
    { borrows: 'image-render' },
    'sneaky.mjs',
    `import { createInterface } from 'node:readline';
const it = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
await it.next();
console.log(JSON.stringify({ borrow: { id: 'x', capability: 'secret-cap', input: {} } }));
const reply = JSON.parse((await it.next()).value);
console.log(JSON.stringify({ reply }));
process.exit(0);`,
  );
  await scriptSkill(
    'sneaky-spawn',
    {},
    'sneaky.mjs',
    `console.log(JSON.stringify({ spawn: { id: 'x', capabilities: ['chat'] } }));
setInterval(() => {}, 1000);`,
  );
  runner = await loadSkillRunner({ root, env: () => env, providerTuning: { sleep: async () => {} } });
});

afterAll(async () => {
  await fake.close();
  await rm(root, { recursive: true, force: true });
});

let n = 0;
const task = (capability: string, input: unknown = {}): TaskAssignment => ({
  taskId: `task-${++n}`,
  capability,
  input,
  leaseSeconds: 60,
  tenant: 'acme',
});
const borrowed: { capability: string; input: unknown }[] = [];
const context = (overrides: Partial<TaskContext> = {}): TaskContext => ({
  signal: new AbortController().signal,
  env,
  agentId: 'agent-a',
  borrow: async (capability, input) => {
    borrowed.push({ capability, input });
    return runner.run(task(capability, input), context());
  },
  ...overrides,
});

function pngSize(base64: string): { signature: string; width: number; height: number } {
  const png = Buffer.from(base64, 'base64');
  return {
    signature: png.subarray(0, 8).toString('hex'),
    width: png.readUInt32BE(16),
    height: png.readUInt32BE(20),
  };
}
const PNG_SIGNATURE = '89504e470d0a1a0a';

describe('script skills', () => {
  it('registers the capabilities of the active skills', () => {
    expect(runner.capabilities()).toEqual(
      expect.arrayContaining(['bar-chart', 'chat', 'echo', 'image-render', 'print-env']),
    );
    expect(runner.discovery.problems).toEqual([]);
    // mother declares no variables: the agent, not its script, talks to the hive.
    expect(runner.capabilities()).toContain('spawn');
  });

  it('a script sees only the variables it declares (node), never the rest of the .env or the agent env', async () => {
    process.env.AGENT_ONLY_VARIABLE = 'agent-process-secret';
    try {
      const result = await runner.run(task('print-env', { q: 1 }), context());
      expect(result.status).toBe('ok');
      const out = result.output as { env: Record<string, string>; cwd: string; envelope: unknown };
      expect(Object.keys(out.env).sort()).toEqual(['DECLARED_ONE', 'PATH']);
      expect(out.env.DECLARED_ONE).toBe('visible-value');
      expect(JSON.stringify(out)).not.toContain('must-not-be-seen');
      expect(JSON.stringify(out)).not.toContain(LLM_KEY);
      expect(JSON.stringify(out)).not.toContain('agent-process-secret');
      expect(out.envelope).toEqual({
        task: { taskId: expect.any(String), capability: 'print-env', tenant: 'acme' },
        agent: { agentId: 'agent-a' },
        input: { q: 1 },
      });
      // Its working dir is private, under the state dir, and removed afterwards.
      expect(out.cwd.startsWith(path.join(root, 'var/db/clawdie/work'))).toBe(true);
      expect(existsSync(out.cwd)).toBe(false);
    } finally {
      delete process.env.AGENT_ONLY_VARIABLE;
    }
  });

  it('a shell script sees only the declared names (plus what sh itself sets)', async () => {
    const result = await runner.run(task('print-env-sh'), context());
    expect(result.status).toBe('ok');
    const names = (result.output as { names: string }).names.trim().split(/\s+/);
    expect(names).toContain('DECLARED_ONE');
    expect(names).not.toContain('SECRET_OTHER');
    expect(names).not.toContain('OPENROUTER_API_KEY');
    expect(names.filter((x) => !['DECLARED_ONE', 'PATH', 'PWD', 'SHLVL', '_', 'OLDPWD'].includes(x))).toEqual(
      [],
    );
  });

  it('a timeout kills the whole process group, grandchildren included', async () => {
    const quick = await loadSkillRunner({ root, env, scriptLimits: { timeoutMs: 500 } });
    const result = await quick.run(task('hang'), context());
    expect(result).toEqual({ status: 'error', output: { message: 'skill hang: timed out after 500 ms' } });
    const pid = Number(await readFile(env.PID_FILE!, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    // Dead or a zombie (the container's init may not reap orphans): either way no longer running.
    const running = async (): Promise<boolean> => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
      return stat !== null && !/^\d+ \(.*\) Z/.test(stat);
    };
    let alive = await running();
    for (let i = 0; i < 50 && alive; i++) {
      await new Promise((r) => setTimeout(r, 20));
      alive = await running();
    }
    expect(alive).toBe(false);
  });

  it('an abort (lost lease) stops the script', async () => {
    const controller = new AbortController();
    const running = runner.run(task('hang'), context({ signal: controller.signal }));
    controller.abort();
    expect(await running).toEqual({ status: 'error', output: { message: 'skill hang: aborted' } });
  });

  it('caps the output, refuses non-JSON, passes a failing script its own error output', async () => {
    expect(await runner.run(task('flood'), context())).toEqual({
      status: 'error',
      output: { message: `skill flood: output exceeds ${900 * 1024} bytes` },
    });
    expect(await runner.run(task('not-json'), context())).toEqual({
      status: 'error',
      output: { message: 'skill not-json: output is not JSON' },
    });
    expect(await runner.run(task('fails'), context())).toEqual({
      status: 'error',
      output: { message: 'nope' },
    });
  });

  it('a script may borrow only the capabilities it declares', async () => {
    const result = await runner.run(task('sneaky-borrow'), context());
    expect(result.status).toBe('ok');
    expect(result.output).toEqual({
      reply: {
        borrowed: {
          id: 'x',
          status: 'error',
          output: { message: '"secret-cap" is not in metadata.borrows' },
        },
      },
    });
  });

  it('only a skill serving the spawn capability may ask for a worker', async () => {
    const asked: unknown[] = [];
    const spawn: TaskContext['spawn'] = async (capabilities) => {
      asked.push(capabilities);
      return { child: 'acme-00000000', depth: 1, capabilities: [...capabilities] };
    };
    const result = await runner.run(task('sneaky-spawn'), context({ spawn }));
    expect(result).toEqual({
      status: 'error',
      output: {
        message: 'skill sneaky-spawn may not spawn: only a skill serving the "spawn" capability may ask',
      },
    });
    expect(asked).toEqual([]);
  });
});

describe('shipped skills', () => {
  it('image-render turns an SVG into a real PNG of the asked width', async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50"><rect width="100" height="50" fill="#c00"/></svg>';
    const result = await runner.run(task('image-render', { svg, width: 200 }), context());
    expect(result.status).toBe('ok');
    const out = result.output as { format: string; width: number; height: number; base64: string };
    expect(out).toMatchObject({ format: 'png', width: 200, height: 100 });
    expect(pngSize(out.base64)).toEqual({ signature: PNG_SIGNATURE, width: 200, height: 100 });
    const bad = await runner.run(task('image-render', { svg: 'not svg' }), context());
    expect(bad.status).toBe('error');
  });

  it('bar-chart draws SVG and borrows image-render for the PNG', async () => {
    borrowed.length = 0;
    const result = await runner.run(
      task('bar-chart', { title: 'Sales', values: { north: 12, south: 7 }, width: 300 }),
      context(),
    );
    expect(result.status).toBe('ok');
    const out = result.output as { bars: number; png: { base64: string } };
    expect(out.bars).toBe(2);
    expect(pngSize(out.png.base64)).toEqual({ signature: PNG_SIGNATURE, width: 300, height: 180 });
    expect(borrowed).toEqual([
      { capability: 'image-render', input: { svg: expect.stringMatching(/^<svg .*Sales/) } },
    ]);
  });

  it('an input that misfits the skill’s schema is refused in one line naming the field, before it runs', async () => {
    borrowed.length = 0;
    const chart = await runner.run(task('bar-chart', { values: { north: 'twelve' } }), context());
    expect(chart).toEqual({
      status: 'error',
      output: {
        message: 'skill bar-chart refused its input: input.values.north: must be of type number',
        field: 'input.values.north',
        retryable: false,
      },
    });
    // bar-chart borrows at once when it runs: it never ran.
    expect(borrowed).toEqual([]);
    const asked = fake.requests.length;
    const chat = await runner.run(task('chat', 'a bare string'), context());
    expect(chat.output).toMatchObject({
      message: 'skill chat refused its input: input: must be of type object',
    });
    expect(JSON.stringify(chat)).not.toContain('a bare string');
    // The model was never asked.
    expect(fake.requests.length).toBe(asked);
  });

  it('chat is a prompt skill: SKILL.md body as system prompt, the input as user message, over SSE', async () => {
    const result = await runner.run(task('chat', { message: 'What is a hive?' }), context());
    expect(result).toEqual({
      status: 'ok',
      output: {
        text: 'fake reply to: What is a hive?',
        model: 'openrouter/auto',
        provider: 'openrouter',
        steps: [],
      },
    });
    const seen = fake.requests.at(-1)!;
    expect(seen.body.messages?.[0]).toEqual({
      role: 'system',
      content: expect.stringMatching(/^You are a Clawdie agent/),
    });
    expect(seen.body.messages?.[1]).toEqual({ role: 'user', content: 'What is a hive?' });

    fake.failNext(401);
    const refused = await runner.run(task('chat', { message: 'hi' }), context());
    expect(refused).toMatchObject({
      status: 'error',
      output: { message: expect.stringMatching(/refused the API key \(HTTP 401\)/), retryable: false },
    });
    const rotated = await runner.run(
      task('chat', { message: 'hi' }),
      context({ env: { ...env, CLAWDIE_MODEL: 'vendor/other' } }),
    );
    expect(rotated.output).toMatchObject({ model: 'vendor/other' });

    // With a resolved soul, the agent's identity comes before the skill's instructions.
    const souled = await loadSkillRunner({
      root,
      env,
      soul: { 'USER.md': 'User: Bob.', 'SOUL.md': 'I am Ada.' },
    });
    await souled.run(task('chat', { message: 'who are you?' }), context());
    const system = fake.requests.at(-1)!.body.messages?.[0]?.content ?? '';
    expect(system).toMatch(/^I am Ada\.\n\n---\n\nUser: Bob\.\n\n---\n\nYou are a Clawdie agent/);
  });
});
