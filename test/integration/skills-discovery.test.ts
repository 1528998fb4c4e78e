// Skill discovery over real layer folders: shadowing (agent > tenant > image), a broken override
// failing closed, input schemas beside SKILL.md (a broken one named by its path), capability gating
// by OS and `.env`, and `clawdie-agent skills` as a real process.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discoverSkills, formatDiscoveryProblem, SKILL_LAYERS } from '../../src/skills/discover.ts';
import { gateSkills } from '../../src/skills/gating.ts';
import { loadSkillRunner } from '../../src/skills/runner.ts';
import { nodeBinary, REPO_ROOT } from '../support/hive-process.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'clawdie-skills-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

type Layer = (typeof SKILL_LAYERS)[number]['layer'];
const layerDir = (layer: Layer): string => path.join(root, SKILL_LAYERS.find((l) => l.layer === layer)!.dir);

async function skill(layer: Layer, name: string, description: string, metadata: Record<string, string> = {}) {
  const dir = path.join(layerDir(layer), name);
  await mkdir(dir, { recursive: true });
  const meta = Object.entries(metadata).map(([k, v]) => `  ${k}: "${v}"`);
  const front = [
    `name: ${name}`,
    `description: ${description}`,
    ...(meta.length ? ['metadata:', ...meta] : []),
  ];
  await writeFile(
    path.join(dir, 'SKILL.md'),
    `---\n${front.join('\n')}\n---\nBody of ${name} in ${layer}.\n`,
  );
  return dir;
}

describe('discovery across layers', () => {
  it('a higher layer shadows a lower one by name; missing layers are fine', async () => {
    await skill('image', 'alpha', 'image alpha', { capabilities: 'alpha' });
    await skill('image', 'beta', 'image beta', { capabilities: 'beta' });
    await skill('tenant', 'beta', 'tenant beta', { capabilities: 'beta' });
    await skill('agent', 'beta', 'agent beta', { capabilities: 'beta' });
    await skill('tenant', 'gamma', 'tenant gamma');
    const { skills, problems } = await discoverSkills(root);
    expect(problems).toEqual([]);
    expect(skills.map((s) => [s.name, s.layer, s.frontmatter.description])).toEqual([
      ['alpha', 'image', 'image alpha'],
      ['beta', 'agent', 'agent beta'],
      ['gamma', 'tenant', 'tenant gamma'],
    ]);
    expect(skills[1]!.shadows).toEqual(['image', 'tenant']);
    expect(skills[1]!.body).toBe('Body of beta in agent.');
    expect(await discoverSkills(path.join(root, 'nothing-here'))).toEqual({ skills: [], problems: [] });
  });

  it('an invalid skill is skipped with path and field, and a broken override hides the lower copy', async () => {
    await skill('image', 'beta', 'image beta', { capabilities: 'beta' });
    const broken = await skill('tenant', 'beta', 'tenant beta', { os: 'linx' });
    const wrongName = path.join(layerDir('agent'), 'delta');
    await mkdir(wrongName, { recursive: true });
    await writeFile(path.join(wrongName, 'SKILL.md'), '---\nname: other\ndescription: x\n---\n');
    await mkdir(path.join(layerDir('agent'), 'assets-only'), { recursive: true }); // no SKILL.md: not a skill
    const { skills, problems } = await discoverSkills(root);
    expect(skills).toEqual([]);
    expect(problems).toEqual([
      {
        layer: 'tenant',
        path: path.join(broken, 'SKILL.md'),
        field: 'metadata.os.0',
        message: expect.stringMatching(/one of .*\(hides the image copy\)$/),
      },
      {
        layer: 'agent',
        path: path.join(wrongName, 'SKILL.md'),
        field: 'name',
        message: 'must match the folder name',
      },
    ]);
  });

  it('a SKILL.md that is a link is refused, not followed', async () => {
    const dir = path.join(layerDir('agent'), 'linked');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(root, 'elsewhere.md'), '---\nname: linked\ndescription: x\n---\n');
    await symlink(path.join(root, 'elsewhere.md'), path.join(dir, 'SKILL.md'));
    const { skills, problems } = await discoverSkills(root);
    expect(skills).toEqual([]);
    expect(problems[0]).toMatchObject({
      field: 'SKILL.md',
      message: expect.stringMatching(/links are not followed/),
    });
  });
});

describe('input schemas', () => {
  const SCHEMA = { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] };

  it('loads the schema beside SKILL.md; a broken one makes the skill invalid, naming the file', async () => {
    const good = await skill('image', 'good', 'fine', {
      capabilities: 'good',
      'input-schema': 'schema.json',
    });
    await writeFile(path.join(good, 'schema.json'), JSON.stringify(SCHEMA, null, 2));
    const typo = await skill('image', 'typo', 'x', { 'input-schema': 'schema.json' });
    await writeFile(
      path.join(typo, 'schema.json'),
      JSON.stringify({ type: 'object', properties: { message: { type: 'string', maxLenght: 9 } } }),
    );
    const notJson = await skill('image', 'not-json', 'x', { 'input-schema': 'in.json' });
    await writeFile(path.join(notJson, 'in.json'), '{ "type": "object", ');
    await skill('image', 'missing', 'x', { 'input-schema': 'gone.json' });
    const linked = await skill('image', 'linked', 'x', { 'input-schema': 'schema.json' });
    await writeFile(path.join(root, 'outside.json'), JSON.stringify(SCHEMA));
    await symlink(path.join(root, 'outside.json'), path.join(linked, 'schema.json'));
    // A broken override hides the lower copy, as a broken SKILL.md does.
    await skill('image', 'shadowed', 'lower', { 'input-schema': 'schema.json' });
    await writeFile(path.join(layerDir('image'), 'shadowed', 'schema.json'), JSON.stringify(SCHEMA));
    const upper = await skill('agent', 'shadowed', 'upper', { 'input-schema': 'schema.json' });
    await writeFile(path.join(upper, 'schema.json'), JSON.stringify({ type: 'array' }));

    const { skills, problems } = await discoverSkills(root);
    expect(skills.map((s) => s.name)).toEqual(['good']);
    expect(skills[0]!.inputSchema).toEqual(SCHEMA);
    const lines = problems.map((p) => formatDiscoveryProblem(p)).sort();
    const at = (layer: Layer, name: string, file: string) => path.join(layerDir(layer), name, file);
    expect(lines).toEqual(
      [
        `${at('image', 'linked', 'schema.json')}: metadata.input-schema: must be a regular file (links are not followed)`,
        `${at('image', 'missing', 'gone.json')}: metadata.input-schema: names a file that does not exist`,
        `${at('image', 'not-json', 'in.json')}: metadata.input-schema: is not valid JSON`,
        `${at('agent', 'shadowed', 'schema.json')}: type: must be "object" (a task's input is a JSON object, as tool arguments are) (hides the image copy)`,
        `${at('image', 'typo', 'schema.json')}: properties.message.maxLenght: is not a JSON Schema keyword (a typo?)`,
      ].sort(),
    );
  });
});

describe('capability gating', () => {
  it('registers the union of the capabilities of skills that fit this OS and .env, plus echo', async () => {
    await skill('image', 'anywhere', 'x', { capabilities: 'one two' });
    await skill('image', 'linux-only', 'x', { capabilities: 'three', os: 'linux' });
    await skill('image', 'bsd-only', 'x', { capabilities: 'four', os: 'freebsd' });
    await skill('image', 'needs-key', 'x', { capabilities: 'five', env: 'FIVE_KEY' });
    await skill('image', 'hijack', 'x', { capabilities: 'echo' });
    const { skills } = await discoverSkills(root);

    const onLinux = gateSkills(skills, { os: 'linux', env: {} });
    expect(onLinux.capabilities).toEqual(['echo', 'one', 'three', 'two']);
    expect(onLinux.inactive.map((i) => [i.skill.name, i.reason])).toEqual([
      ['bsd-only', 'needs os freebsd, this is linux'],
      ['needs-key', 'needs FIVE_KEY in the .env'],
    ]);
    const onBsd = gateSkills(skills, { os: 'freebsd', env: { FIVE_KEY: 'k' } });
    expect(onBsd.capabilities).toEqual(['echo', 'five', 'four', 'one', 'two']);
    // An empty value counts as missing.
    expect(gateSkills(skills, { os: 'freebsd', env: { FIVE_KEY: '' } }).capabilities).not.toContain('five');
    expect(onBsd.routes.get('echo')).toBeUndefined();

    const runner = await loadSkillRunner({ root, env: {}, os: 'linux' });
    expect(runner.capabilities()).toEqual(['echo', 'one', 'three', 'two']);
    const ctx = {
      signal: new AbortController().signal,
      env: {},
      borrow: async () => ({ status: 'ok' as const, output: null }),
    };
    expect(
      await runner.run({ taskId: 't1', capability: 'echo', input: { a: 1 }, leaseSeconds: 30 }, ctx),
    ).toEqual({
      status: 'ok',
      output: { a: 1 },
    });
    expect(
      await runner.run({ taskId: 't2', capability: 'four', input: null, leaseSeconds: 30 }, ctx),
    ).toMatchObject({
      status: 'error',
    });
  });

  it('the shipped skills load without problems', async () => {
    const { skills, problems } = await discoverSkills('/', [
      { layer: 'image', dir: path.join(REPO_ROOT, 'skills') },
    ]);
    expect(problems).toEqual([]);
    expect(skills.map((s) => s.name)).toEqual(
      expect.arrayContaining(['bar-chart', 'chat', 'image-render', 'mother']),
    );
    for (const name of ['bar-chart', 'chat', 'image-render', 'mother']) {
      expect(skills.find((s) => s.name === name)?.inputSchema?.type, name).toBe('object');
    }
    const mother = skills.find((s) => s.name === 'mother')!;
    expect(mother.extensions.capabilities).toEqual(['spawn']);
    expect(mother.body).toMatch(/resolve-identity[\s\S]*await-secrets[\s\S]*register[\s\S]*heartbeat/);
  });
});

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(nodeBinary(), [path.join(REPO_ROOT, 'src/cli.ts'), 'skills', ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('clawdie-agent skills', () => {
  it('lists skills and problems; --check exits 1 on problems; --json is machine-readable', async () => {
    const good = await skill('image', 'good', 'fine', {
      capabilities: 'good',
      env: 'GOOD_KEY',
      'input-schema': 'input.json',
      'timeout-seconds': '90',
    });
    await writeFile(path.join(good, 'input.json'), '{"type": "object"}');
    await skill('agent', 'bad', 'x', { runs: 'script' });
    const schemad = await skill('agent', 'schemad', 'x', { 'input-schema': 'schema.json' });
    await writeFile(path.join(schemad, 'schema.json'), '{"type": "object", "required": "message"}');
    await mkdir(path.join(root, 'home/clawdie'), { recursive: true });
    await writeFile(path.join(root, 'home/clawdie/.env'), 'GOOD_KEY=the-secret-value-123\n', { mode: 0o600 });

    const text = await cli(['--root', root]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/good\s+prompt\s+image\s+\[good\]\s+active/);
    expect(text.out).toContain(
      `${path.join(layerDir('agent'), 'bad', 'SKILL.md')}: metadata.entry: is required`,
    );
    expect(text.out).toContain(
      `${path.join(schemad, 'schema.json')}: required: must be a list of property names`,
    );
    expect(text.out).toMatch(/capabilities: echo, good/);
    expect(text.out + text.err).not.toContain('the-secret-value-123');

    const checked = await cli(['--check', '--json'], { CLAWDIE_ROOT: root });
    expect(checked.code).toBe(1);
    const report = JSON.parse(checked.out) as {
      skills: { name: string; active: boolean }[];
      problems: unknown[];
    };
    expect(report.skills).toEqual([
      expect.objectContaining({
        name: 'good',
        active: true,
        timeoutSeconds: 90,
        inputSchema: path.join(good, 'input.json'),
      }),
    ]);
    expect(report.problems).toHaveLength(2);
    expect(checked.out).not.toContain('the-secret-value-123');

    await rm(path.join(layerDir('agent'), 'bad'), { recursive: true });
    await rm(schemad, { recursive: true });
    expect((await cli(['--check', '--root', root])).code).toBe(0);
    expect((await cli(['--bogus'])).code).toBe(2);
  });

  it('finds its .env like the other commands: CLAWDIE_USER names the home, an unsafe name is refused', async () => {
    await skill('image', 'keyed', 'needs a key', { capabilities: 'keyed', env: 'KEYED_KEY' });
    await mkdir(path.join(root, 'home/alice'), { recursive: true });
    await writeFile(path.join(root, 'home/alice/.env'), 'KEYED_KEY=set\n', { mode: 0o600 });
    const alice = await cli(['--json', '--root', root], { CLAWDIE_USER: 'alice' });
    expect(alice.code, alice.err).toBe(0);
    expect(JSON.parse(alice.out).skills).toEqual([expect.objectContaining({ name: 'keyed', active: true })]);
    // Refused with the same line as every agent command (it used to take the basename and go on).
    const bad = await cli(['--root', root], { CLAWDIE_USER: '../alice' });
    expect({ code: bad.code, err: bad.err, out: bad.out }).toEqual({
      code: 1,
      err: 'clawdie-agent skills: CLAWDIE_USER: must be a plain login name\n',
      out: '',
    });
  });
});
