// Checks a task's input against a capability's input schema before anything runs it (DESIGN §7):
// @cfworker/json-schema validates (a JSON Schema 2020-12 / draft-07 interpreter that generates no
// code, as the jitless agent requires), and its first failure becomes one line naming the field
// (`input.values.north: must be of type number`), never the input's value. Pure: schema and input
// in, null or the problem out. Also usable for a schema from the hive's catalog (the tool loop):
// a schema the library cannot apply gives a problem, never a throw. A check runs under a time limit
// (within-time.ts): a schema's `pattern` that backtracks catastrophically on a crafted input refuses
// that input instead of freezing the agent (and, on a lane, every tenant that borrows it).
import { type OutputUnit, Validator } from '@cfworker/json-schema';
import type { InputSchema } from '../protocol/index.ts';
import { dialectOf, resolvePointer } from './input-schema.ts';
import { WithinTimeError, withinTime } from './within-time.ts';

/**
 * How long one input check may take: far above an honest input (a 1 MiB one checks in tens of ms)
 * and far below the heartbeat interval, so a stuck pattern costs the agent half a second, once.
 */
export const INPUT_CHECK_MS = 500;

export interface InputProblem {
  /** `input` or `input.<dotted path>` of the offending field. */
  field: string;
  message: string;
}

/** Checks one task input: null when it fits the schema. */
export type InputCheck = (input: unknown) => InputProblem | null;

/** Errors that only say a subschema below failed: the one below says what is wrong. */
const PASS_THROUGH = new Set([
  'properties',
  'patternProperties',
  'additionalProperties',
  'unevaluatedProperties',
  'items',
  'prefixItems',
  'additionalItems',
  'unevaluatedItems',
  'allOf',
  '$ref',
  'dependentSchemas',
  'if',
  'then',
  'else',
]);

/** `#/a/b~1c` (instance pointer, URI-encoded) → ['a', 'b/c']. */
function segments(pointer: string): string[] {
  if (pointer === '#' || pointer === '') return [];
  return pointer
    .replace(/^#\//, '')
    .split('/')
    .map((s) => {
      try {
        return decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~');
      } catch {
        return s;
      }
    });
}

/** A field name as shown: bounded, printable (it came from the input). */
const shown = (s: string): string => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);

const fieldOf = (parts: string[]): string => ['input', ...parts.map(shown)].join('.');

const list = (v: unknown): string =>
  Array.isArray(v) ? v.map((x) => JSON.stringify(x)).join(', ') : JSON.stringify(v);

/** The schema's own value for the failing keyword (its limit, its types), through local $refs. */
function keywordValue(root: InputSchema, keywordLocation: string): unknown {
  let node: unknown = root;
  for (const seg of segments(keywordLocation)) {
    if (node === null || typeof node !== 'object') return undefined;
    const o = node as Record<string, unknown>;
    node = seg === '$ref' && typeof o.$ref === 'string' ? resolvePointer(root, o.$ref) : o[seg];
  }
  return node;
}

/** What the keyword demands, in words; limits and types come from the schema, nothing from the input. */
function demand(keyword: string, value: unknown, error: string): string {
  const n = typeof value === 'number' ? value : '';
  switch (keyword) {
    case 'type':
      return value === undefined ? 'has the wrong type' : `must be of type ${[value].flat().join(' or ')}`;
    case 'false':
      return 'is not allowed';
    case 'required':
      return 'is required';
    case 'const':
      return 'must be the one value the schema allows';
    case 'enum': {
      const allowed = list(value);
      return allowed.length <= 120 ? `must be one of ${allowed}` : 'must be one of the allowed values';
    }
    case 'minLength':
      return `must be at least ${n} characters long`;
    case 'maxLength':
      return `must be at most ${n} characters long`;
    case 'minimum':
      return `must be at least ${n}`;
    case 'maximum':
      return `must be at most ${n}`;
    case 'exclusiveMinimum':
      return `must be greater than ${n}`;
    case 'exclusiveMaximum':
      return `must be less than ${n}`;
    case 'multipleOf':
      return `must be a multiple of ${n}`;
    case 'pattern':
      return 'does not match the pattern the schema requires';
    case 'format':
      return `must be a valid ${typeof value === 'string' ? value : 'value of its format'}`;
    case 'minItems':
      return `must hold at least ${n} items`;
    case 'maxItems':
      return `must hold at most ${n} items`;
    case 'uniqueItems':
      return 'must not repeat an item';
    case 'minProperties':
      return `must have at least ${n} properties`;
    case 'maxProperties':
      return `must have at most ${n} properties`;
    case 'contains':
    case 'minContains':
    case 'maxContains':
      return 'does not hold the items the schema asks for';
    case 'anyOf':
      return 'matches none of the allowed forms';
    case 'oneOf':
      return /\(0 matches\)/.test(error)
        ? 'matches none of the allowed forms'
        : 'matches more than one of the allowed forms';
    case 'not':
      return 'has a form the schema forbids';
    case 'propertyNames':
      return 'has a property name the schema does not allow';
    case 'dependentRequired':
    case 'dependencies':
      return 'lacks a property that must come with another';
    default:
      return `does not fit the input schema (${shown(keyword)})`;
  }
}

/** The first failure that says what is wrong (errors come outermost first), as field and words. */
export function describeFailure(root: InputSchema, errors: readonly OutputUnit[]): InputProblem {
  const unit = errors.find((e) => !PASS_THROUGH.has(e.keyword)) ?? errors.at(-1);
  if (!unit) return { field: 'input', message: 'does not fit the input schema' };
  const parts = segments(unit.instanceLocation);
  if (unit.keyword === 'required') {
    // The library names the missing property only in its message; it is a schema name, not input.
    const missing = /required property "(.*)"\.$/.exec(unit.error)?.[1];
    if (missing !== undefined) parts.push(missing);
  }
  const message = demand(unit.keyword, keywordValue(root, unit.keywordLocation), unit.error);
  return { field: fieldOf(parts), message };
}

/** A checker for `schema` (compiled once; the library annotates its own copy, never the caller's). */
export function compileInputValidator(schema: InputSchema): InputCheck {
  const root = structuredClone(schema);
  let validator: Validator;
  try {
    validator = new Validator(structuredClone(schema), dialectOf(schema), true);
  } catch {
    return () => ({ field: 'input', message: 'cannot be checked: the input schema is not usable' });
  }
  return (input) => {
    try {
      const result = withinTime(INPUT_CHECK_MS, () => validator.validate(input));
      return result.valid ? null : describeFailure(root, result.errors);
    } catch (err) {
      if (err instanceof WithinTimeError) {
        return {
          field: 'input',
          message: `could not be checked within ${INPUT_CHECK_MS} ms (a pattern of the input schema backtracks on it)`,
        };
      }
      // An unresolvable $ref in a schema nobody checked (another agent's, from the catalog).
      return { field: 'input', message: 'cannot be checked: the input schema is not usable' };
    }
  };
}

/** One line for a refusal: `input.values.north: must be of type number`. */
export const formatInputProblem = (p: InputProblem): string => `${p.field}: ${p.message}`;
