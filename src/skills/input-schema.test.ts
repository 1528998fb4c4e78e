// A skill's input schema: the check at discovery (each broken kind named at its place in the file)
// and the check of task inputs against an accepted schema (one line naming the field, never the
// input's value), plus properties: neither ever throws, whatever they are given.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../config/zod-jitless.ts';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { InputSchema } from '../protocol/index.ts';
import { checkInputSchema } from './input-schema.ts';
import { compileInputValidator, formatInputProblem, INPUT_CHECK_MS } from './input-validator.ts';
import { withinTime } from './within-time.ts';

const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  properties,
  ...extra,
});

describe('checkInputSchema', () => {
  it.each([
    ['a wrong type name', obj({ a: { type: 'strin' } }), 'properties.a.type', /must be a type name/],
    ['a misspelt keyword', obj({ a: { type: 'string', minLenght: 2 } }), 'properties.a.minLenght', /a typo/],
    ['a negative length', obj({ a: { minLength: -1 } }), 'properties.a.minLength', /at least 0/],
    ['a number as a schema', obj({ a: 5 }), 'properties.a', /must be a schema/],
    ['required as a string', obj({}, { required: 'a' }), 'required', /list of property names/],
    ['a $ref to nothing', obj({ a: { $ref: '#/$defs/x' } }), 'properties.a.$ref', /point to a schema/],
    [
      'a $ref outside the file',
      obj({ a: { $ref: 'https://x.example/s' } }),
      'properties.a.$ref',
      /inside this file/,
    ],
    [
      'a pattern that does not compile',
      obj({ a: { pattern: '(' } }),
      'properties.a.pattern',
      /regular expression/,
    ],
    ['a root that is not an object', { type: 'string' }, 'type', /must be "object"/],
    [
      'an unknown dialect',
      obj({}, { $schema: 'http://json-schema.org/draft-04/schema#' }),
      '$schema',
      /one of/,
    ],
    ['an array', [], '(root)', /JSON object/],
    ['a huge schema', obj({ a: { description: 'x'.repeat(20_000) } }), '(root)', /at most 16384 bytes/],
  ])('refuses %s, naming where', (_, doc, field, message) => {
    const r = checkInputSchema(doc);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.field).toBe(field);
    expect(r.message).toMatch(message);
  });

  it('accepts $defs with local refs, boolean schemas, draft-07 and x- extensions', () => {
    const doc = obj(
      { a: { $ref: '#/$defs/n' }, b: true, c: { items: [{ type: 'string' }] } },
      { $defs: { n: { type: 'number' } }, additionalProperties: false, 'x-ui': { order: 1 } },
    );
    expect(checkInputSchema(doc)).toEqual({ ok: true, schema: doc });
    expect(checkInputSchema({ ...doc, $schema: 'http://json-schema.org/draft-07/schema#' }).ok).toBe(true);
  });

  it('accepts the schemas of the shipped skills', () => {
    const skills = path.resolve(import.meta.dirname, '../../skills');
    const shipped = readdirSync(skills).filter((s) =>
      readdirSync(path.join(skills, s)).includes('schema.json'),
    );
    expect(shipped.sort()).toEqual(['bar-chart', 'chat', 'image-render', 'mother']);
    for (const s of shipped) {
      const r = checkInputSchema(JSON.parse(readFileSync(path.join(skills, s, 'schema.json'), 'utf8')));
      expect(r.ok, `${s}: ${JSON.stringify(r)}`).toBe(true);
    }
  });

  it('never throws, and a problem is one line', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (doc) => {
        const r = checkInputSchema(doc);
        if (!r.ok) expect(`${r.field}: ${r.message}`).not.toMatch(/\n/);
      }),
    );
  });
});

const CHART: InputSchema = {
  type: 'object',
  $defs: { bar: { type: 'number', minimum: 0 } },
  properties: {
    title: { type: 'string', maxLength: 5 },
    kind: { enum: ['bars', 'lines'] },
    values: { type: 'object', additionalProperties: { $ref: '#/$defs/bar' }, minProperties: 1 },
    width: { type: 'integer', minimum: 120 },
    either: { anyOf: [{ type: 'string' }, { type: 'number' }] },
  },
  required: ['values'],
  additionalProperties: false,
};

describe('compileInputValidator', () => {
  const check = compileInputValidator(CHART);

  it.each([
    [{}, 'input.values: is required'],
    [{ values: { north: 'SECRET-VALUE' } }, 'input.values.north: must be of type number'],
    [{ values: { north: -3 } }, 'input.values.north: must be at least 0'],
    [{ values: {} }, 'input.values: must have at least 1 properties'],
    [{ values: { a: 1 }, extra: 'SECRET-VALUE' }, 'input.extra: is not allowed'],
    [{ values: { a: 1 }, title: 'SECRET-VALUE' }, 'input.title: must be at most 5 characters long'],
    [{ values: { a: 1 }, kind: 'SECRET-VALUE' }, 'input.kind: must be one of "bars", "lines"'],
    [{ values: { a: 1 }, width: 99.5 }, 'input.width: must be of type integer'],
    [{ values: { a: 1 }, either: true }, 'input.either: matches none of the allowed forms'],
    ['SECRET-VALUE', 'input: must be of type object'],
  ])('refuses %j in one line naming the field', (input, line) => {
    const problem = check(input);
    expect(problem && formatInputProblem(problem)).toBe(line);
  });

  it('passes an input that fits', () => {
    expect(check({ values: { north: 12, south: 0 }, title: 'Sales', width: 480 })).toBeNull();
  });

  it('never throws and never repeats a value of the input', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ minLength: 12 }), (input, marker) => {
        const secret = `zz${marker}`;
        const withSecret = { values: { a: secret }, title: secret, kind: secret, junk: input };
        for (const value of [input, withSecret]) {
          const p = check(value);
          if (p) {
            expect(p.message).not.toContain(secret);
            expect(formatInputProblem(p)).not.toMatch(/\n/);
          }
        }
      }),
    );
  });

  it('answers a problem, not a throw, for a schema it cannot apply (a catalog’s, unchecked)', () => {
    const broken = compileInputValidator({ type: 'object', properties: { a: { $ref: '#/nowhere' } } });
    expect(broken({ a: 1 })).toEqual({ field: 'input', message: expect.stringMatching(/cannot be checked/) });
  });

  it('refuses an input its pattern backtracks on, within the time limit, and goes on checking', () => {
    // ^(a+)+$ on 30 a's and a b: about 2^30 steps (tens of seconds) without the limit.
    const check = compileInputValidator({
      type: 'object',
      properties: { name: { type: 'string', pattern: '^(a+)+$' } },
    });
    expect(check({ name: `${'a'.repeat(30)}b` })).toEqual({
      field: 'input',
      message: `could not be checked within ${INPUT_CHECK_MS} ms (a pattern of the input schema backtracks on it)`,
    });
    expect(check({ name: 'aaa' })).toBeNull();
    expect(check({ name: 'ab' })).toEqual({ field: 'input.name', message: expect.stringMatching(/pattern/) });
    // A throw of the call itself is not taken for a timeout.
    expect(() => withinTime(INPUT_CHECK_MS, () => JSON.parse('{'))).toThrow(SyntaxError);
  });

  it('leaves the caller’s schema as it was', () => {
    const schema = structuredClone(CHART);
    compileInputValidator(schema)({ values: { a: 'x' } });
    expect(Object.getOwnPropertyNames(schema)).toEqual(Object.getOwnPropertyNames(CHART));
    expect(schema).toEqual(CHART);
  });
});
