// SKILL.md parsing: every error class names its field on one line; property tests over random
// frontmatter and random text prove the parser never throws and never echoes a value.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseSkillMd, SkillFrontmatter, splitList } from './frontmatter.ts';
import { DEFAULT_PROMPT_TIMEOUT_SECONDS, LOOP_BUDGET_DEFAULTS, loopBudget } from './loop-budget.ts';

const md = (front: string, body = 'Do the thing.'): string => `---\n${front}\n---\n${body}\n`;
const problem = (text: string, folder = 'demo') => {
  const r = parseSkillMd(text, folder);
  if (r.ok) throw new Error('expected a problem');
  return r.problem;
};

describe('valid skills', () => {
  it('parses the standard fields and our metadata extensions', () => {
    const r = parseSkillMd(
      md(
        [
          'name: demo',
          'description: Demo skill.',
          'license: MIT',
          'compatibility: Needs nothing',
          'allowed-tools: Bash(git:*) Read',
          'metadata:',
          '  capabilities: "demo, demo-two"',
          '  env: API_TOKEN OTHER',
          '  os: linux,freebsd',
          '  runs: script',
          '  entry: run.mjs',
          '  model: vendor/model',
          '  timeout-seconds: "9"',
          '  author: someone',
        ].join('\n'),
        '# Title\n\nBody text.',
      ),
      'demo',
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.skill.extensions).toEqual({
      capabilities: ['demo', 'demo-two'],
      env: ['API_TOKEN', 'OTHER'],
      os: ['linux', 'freebsd'],
      borrows: [],
      runs: 'script',
      entry: 'run.mjs',
      model: 'vendor/model',
      'timeout-seconds': 9,
    });
    expect(r.skill.body).toBe('# Title\n\nBody text.');
  });

  it('accepts the minimal form, a BOM, CRLF and allowed-tools as a list', () => {
    const text = '\uFEFF---\r\nname: demo\r\ndescription: x\r\nallowed-tools:\r\n  - Read\r\n---\r\nBody';
    const r = parseSkillMd(text, 'demo');
    expect(r.ok && r.skill.extensions.runs).toBe('prompt');
  });
});

describe('every error class names its field', () => {
  const cases: [string, string, string, RegExp][] = [
    ['no frontmatter', 'just text', 'frontmatter', /must start/],
    ['unterminated', '---\nname: demo\n', 'frontmatter', /closing/],
    ['bad YAML', md('name: [demo'), 'frontmatter', /not valid YAML .* at line \d+/],
    ['duplicate key', md('name: demo\nname: demo'), 'frontmatter', /not valid YAML/],
    ['not a mapping', md('- a\n- b'), 'frontmatter', /mapping/],
    ['name missing', md('description: x'), 'name', /is required/],
    ['name not a string', md('name: 12\ndescription: x'), 'name', /must be a string/],
    ['name uppercase', md('name: Demo\ndescription: x'), 'name', /a-z/],
    ['name leading hyphen', md('name: -demo\ndescription: x'), 'name', /a-z/],
    ['name double hyphen', md('name: de--mo\ndescription: x'), 'name', /a-z/],
    ['name too long', md(`name: ${'a'.repeat(65)}\ndescription: x`), 'name', /64/],
    ['name != folder', md('name: other\ndescription: x'), 'name', /folder/],
    ['description missing', md('name: demo'), 'description', /is required/],
    ['description blank', md('name: demo\ndescription: "   "'), 'description', /empty/],
    ['description too long', md(`name: demo\ndescription: ${'d'.repeat(1025)}`), 'description', /1024/],
    [
      'compatibility too long',
      md(`name: demo\ndescription: x\ncompatibility: ${'c'.repeat(501)}`),
      'compatibility',
      /500/,
    ],
    ['license empty', md('name: demo\ndescription: x\nlicense: ""'), 'license', /empty/],
    [
      'unknown field',
      md('name: demo\ndescription: x\ncapabilities: demo'),
      'capabilities',
      /unknown field.*metadata/,
    ],
    ['metadata not a map', md('name: demo\ndescription: x\nmetadata: [a]'), 'metadata', /./],
    [
      'metadata number',
      md('name: demo\ndescription: x\nmetadata:\n  version: 1.0'),
      'metadata.version',
      /string/,
    ],
    ['allowed-tools map', md('name: demo\ndescription: x\nallowed-tools: {a: 1}'), 'allowed-tools', /string/],
    [
      'bad capability',
      md('name: demo\ndescription: x\nmetadata:\n  capabilities: "ok, Bad_Cap"'),
      'metadata.capabilities.1',
      /capability/,
    ],
    ['bad env name', md('name: demo\ndescription: x\nmetadata:\n  env: lower'), 'metadata.env.0', /variable/],
    ['unknown os', md('name: demo\ndescription: x\nmetadata:\n  os: linx'), 'metadata.os.0', /one of/],
    [
      'bad runs',
      md('name: demo\ndescription: x\nmetadata:\n  runs: shell'),
      'metadata.runs',
      /prompt.*script/,
    ],
    [
      'script without entry',
      md('name: demo\ndescription: x\nmetadata:\n  runs: script'),
      'metadata.entry',
      /required/,
    ],
    [
      'entry with slash',
      md('name: demo\ndescription: x\nmetadata:\n  runs: script\n  entry: ../x.sh'),
      'metadata.entry',
      /no slashes/,
    ],
    [
      'bad timeout',
      md('name: demo\ndescription: x\nmetadata:\n  timeout-seconds: "0"'),
      'metadata.timeout-seconds',
      /at least/,
    ],
    [
      'bad borrows',
      md('name: demo\ndescription: x\nmetadata:\n  borrows: "!"'),
      'metadata.borrows.0',
      /capability/,
    ],
    [
      'input schema with a path',
      md('name: demo\ndescription: x\nmetadata:\n  input-schema: ../x.json'),
      'metadata.input-schema',
      /\.json file name beside SKILL\.md/,
    ],
    [
      'input schema not json',
      md('name: demo\ndescription: x\nmetadata:\n  input-schema: schema.yaml'),
      'metadata.input-schema',
      /\.json/,
    ],
    [
      'max-steps zero',
      md('name: demo\ndescription: x\nmetadata:\n  max-steps: "0"'),
      'metadata.max-steps',
      /at least 1/,
    ],
    [
      'max-tool-result-bytes too big',
      md('name: demo\ndescription: x\nmetadata:\n  max-tool-result-bytes: "999999999"'),
      'metadata.max-tool-result-bytes',
      /at most 262144/,
    ],
    [
      'max-concurrent-tools not whole',
      md('name: demo\ndescription: x\nmetadata:\n  max-concurrent-tools: "1.5"'),
      'metadata.max-concurrent-tools',
      /whole/,
    ],
    ['too big', md('name: demo\ndescription: x', 'x'.repeat(300_000)), 'SKILL.md', /larger/],
  ];
  it.each(cases)('%s', (_label, text, field, message) => {
    const p = problem(text);
    expect(p.field).toBe(field);
    expect(p.message).toMatch(message);
    expect(p.message).not.toMatch(/\n/);
  });

  it('never echoes a value in a problem', () => {
    const secret = 'SUPERSECRETVALUE';
    for (const front of [
      `name: ${secret}\ndescription: x`,
      `name: demo\ndescription: x\nmetadata:\n  env: "${secret.toLowerCase()}"`,
      `name: demo\ndescription: x\nmetadata:\n  os: "${secret.toLowerCase()}"`,
      `name: demo\ndescription: x\nlicense: 5`,
    ]) {
      expect(JSON.stringify(problem(md(front))).toLowerCase()).not.toContain(secret.toLowerCase());
    }
  });
});

describe('the tool loop’s budget', () => {
  const ext = (meta: string) => {
    const r = parseSkillMd(md(`name: demo\ndescription: x\nmetadata:\n${meta}`), 'demo');
    if (!r.ok) throw new Error(r.problem.message);
    return r.skill.extensions;
  };

  it('has one set of defaults, the skill’s timeout as the whole loop’s deadline', () => {
    expect(loopBudget(ext('  runs: prompt'))).toEqual({
      ...LOOP_BUDGET_DEFAULTS,
      deadlineMs: DEFAULT_PROMPT_TIMEOUT_SECONDS * 1000,
    });
    expect(LOOP_BUDGET_DEFAULTS).toEqual({ maxSteps: 8, maxToolResultBytes: 16_384, maxConcurrentTools: 4 });
  });

  it('takes what the metadata sets', () => {
    const meta = [
      '  max-steps: "3"',
      '  max-tool-result-bytes: "1024"',
      '  max-concurrent-tools: "2"',
      '  timeout-seconds: "30"',
      '  input-schema: schema.json',
    ].join('\n');
    const e = ext(meta);
    expect(e['input-schema']).toBe('schema.json');
    expect(loopBudget(e)).toEqual({
      maxSteps: 3,
      maxToolResultBytes: 1024,
      maxConcurrentTools: 2,
      deadlineMs: 30_000,
    });
  });
});

describe('properties', () => {
  const scalar = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
  );
  // The schema's own keys (name, description, license, …) and one it must refuse.
  const keys = fc.constantFrom(...Object.keys(SkillFrontmatter.shape), 'other');
  const metadata = fc.dictionary(
    fc.constantFrom('capabilities', 'env', 'os', 'runs', 'entry', 'model', 'borrows', 'timeout-seconds', 'x'),
    fc.oneof(fc.string({ maxLength: 40 }), fc.integer()),
  );
  const frontmatter = fc.dictionary(keys, fc.oneof(scalar, metadata), { maxKeys: 7 });

  it('random frontmatter: never throws; a problem is one line naming a field', () => {
    fc.assert(
      fc.property(frontmatter, fc.string({ maxLength: 200 }), (front, body) => {
        const r = parseSkillMd(`---\n${stringify(front)}---\n${body}`, 'demo');
        if (!r.ok) {
          expect(r.problem.field.length).toBeGreaterThan(0);
          expect(`${r.problem.field}: ${r.problem.message}`).not.toMatch(/[\r\n]/);
        } else {
          expect(r.skill.frontmatter.name).toBe('demo');
        }
      }),
      { numRuns: 400 },
    );
  });

  it('random text: never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), fc.string({ maxLength: 400 }), (a, b) => {
        const r = parseSkillMd(`---\n${a}\n---\n${b}`, 'demo');
        expect(typeof r.ok).toBe('boolean');
        const raw = parseSkillMd(a, 'demo');
        if (!raw.ok) expect(raw.problem.message).not.toMatch(/[\r\n]/);
      }),
      { numRuns: 400 },
    );
  });

  it('splitList splits on commas and whitespace and drops empties', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z0-9-]{1,8}$/), { maxLength: 6 }),
        fc.constantFrom(',', ' ', ', ', '\n'),
        (items, sep) => {
          expect(splitList(items.join(sep))).toEqual(items);
        },
      ),
    );
  });
});
