// Skills benchmark (issue 7), reported as ratios against baselines measured in the same run:
// - SKILL.md parsing (YAML + zod) vs JSON.parse + zod of the same fields;
// - a script skill's run (minimal env, process group, work dir) vs a bare spawn of the same script;
// - image-render through the runner vs resvg rendering in-process (system fonts loaded in both);
// - a streamed chat completion against the fake server vs a bare non-streamed undici request.
// Bounded in iterations; prints figures only (nothing enforced beyond "every run succeeded").
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { request } from 'undici';
import { startFakeLlm } from '../../host-helper/demo/services/fake-llm.ts';
import { providerFromEnv } from '../../src/providers/select.ts';
import { parseSkillMd, SkillFrontmatter } from '../../src/skills/frontmatter.ts';
import { loadSkillRunner } from '../../src/skills/runner.ts';
import { nodeBinary, REPO_ROOT } from '../support/hive-process.ts';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timeEach(n: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}
const line = (what: string, ours: number, base: number, unit = 'ms'): void => {
  process.stdout.write(
    `${what.padEnd(34)} ours ${ours.toFixed(3)} ${unit}  baseline ${base.toFixed(3)} ${unit}  ratio ${(ours / base).toFixed(2)}\n`,
  );
};

const root = await mkdtemp(path.join(tmpdir(), 'clawdie-bench-skills-'));
const fake = await startFakeLlm();
try {
  // 1. Parsing.
  const text = `---\nname: demo\ndescription: A demo skill.\nlicense: MIT\nmetadata:\n  capabilities: "a b c"\n  env: "A_KEY B_KEY"\n  runs: prompt\n---\nBody\n`;
  const json = JSON.stringify({
    name: 'demo',
    description: 'A demo skill.',
    license: 'MIT',
    metadata: { capabilities: 'a b c' },
  });
  const N = 2000;
  const t1 = performance.now();
  for (let i = 0; i < N; i++) if (!parseSkillMd(text, 'demo').ok) throw new Error('parse failed');
  const ours1 = (performance.now() - t1) / N;
  const t2 = performance.now();
  for (let i = 0; i < N; i++) SkillFrontmatter.parse(JSON.parse(json));
  const base1 = (performance.now() - t2) / N;
  line('parse SKILL.md (per file)', ours1, base1);

  // 2. Script skill overhead.
  const dir = path.join(root, 'var/db/clawdie/soul/skills/noop');
  await mkdir(path.join(dir, 'scripts'), { recursive: true });
  await writeFile(
    path.join(dir, 'SKILL.md'),
    '---\nname: noop\ndescription: x\nmetadata:\n  capabilities: noop\n  runs: script\n  entry: noop.mjs\n---\n',
  );
  const script = path.join(dir, 'scripts/noop.mjs');
  await writeFile(script, 'process.stdout.write("{}")\n');
  await mkdir(path.join(root, 'usr/local/share/clawdie/soul'), { recursive: true });
  await symlink(path.join(REPO_ROOT, 'skills'), path.join(root, 'usr/local/share/clawdie/soul/skills'));
  const env = { OPENROUTER_API_KEY: 'sk-bench', OPENROUTER_BASE_URL: fake.url };
  const runner = await loadSkillRunner({ root, env });
  const ctx = {
    signal: new AbortController().signal,
    env,
    borrow: async () => ({ status: 'error' as const, output: null }),
  };
  let id = 0;
  const run = async (capability: string, input: unknown) => {
    const r = await runner.run({ taskId: `b${++id}`, capability, input, leaseSeconds: 60 }, ctx);
    if (r.status !== 'ok') throw new Error(`${capability} failed: ${JSON.stringify(r.output)}`);
  };
  const ours2 = await timeEach(15, () => run('noop', {}));
  const base2 = await timeEach(15, () => spawnSync(nodeBinary(), [script], { input: '{}\n' }));
  line('script skill run (noop)', ours2, base2);

  // 3. image-render.
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="240"><rect width="400" height="240" fill="#36c"/><circle cx="200" cy="120" r="80" fill="#fc3"/></svg>';
  const ours3 = await timeEach(10, () => run('image-render', { svg }));
  const base3 = await timeEach(10, () =>
    new Resvg(svg, { font: { loadSystemFonts: true } }).render().asPng(),
  );
  line('image-render 400x240 (runner)', ours3, base3);

  // 4. Provider streaming.
  const provider = providerFromEnv(env);
  const messages = [{ role: 'user' as const, content: 'one two three four five six seven eight' }];
  const ours4 = await timeEach(50, () => provider.chat({ messages }));
  const base4 = await timeEach(50, async () => {
    const res = await request(`${fake.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages }),
    });
    await res.body.json();
  });
  line('chat completion (streamed)', ours4, base4);
} finally {
  await fake.close();
  await rm(root, { recursive: true, force: true });
}
