// Checks a skill's input schema (metadata.input-schema, a JSON Schema beside SKILL.md) before the
// skill is accepted (DESIGN §7): the keywords of JSON Schema 2020-12 (and draft-07's few of their
// own) with the value each must have, an unknown keyword refused as the typo it usually is (`x-`
// extensions aside), `$ref` only inside the file and resolving, patterns that compile, and a root
// that takes an object (a tool's arguments are a JSON object, for the model and for MCP clients).
// Pure: the parsed JSON in, the schema or the first problem (its location in the file, one line) out.
// Tasks are checked against an accepted schema by input-validator.ts.
import * as z from 'zod';
import { type InputSchema, jsonBytes, MAX_INPUT_SCHEMA_BYTES } from '../protocol/index.ts';

/** The dialects the agent validates by, by their `$schema` URI; without one, 2020-12. */
export const DIALECTS = {
  'https://json-schema.org/draft/2020-12/schema': '2020-12',
  'http://json-schema.org/draft-07/schema#': '7',
} as const;
export type Dialect = (typeof DIALECTS)[keyof typeof DIALECTS];

/** The dialect a schema declares (`$schema`), 2020-12 when it declares none. */
export const dialectOf = (schema: InputSchema): Dialect =>
  DIALECTS[schema.$schema as keyof typeof DIALECTS] ?? '2020-12';

/** Keywords whose value is one schema, a list of schemas, or a map of name → schema. */
export const SCHEMA_KEYWORDS = [
  'not',
  'if',
  'then',
  'else',
  'additionalItems',
  'contains',
  'additionalProperties',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contentSchema',
] as const;
export const SCHEMA_LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'] as const;
export const SCHEMA_MAP_KEYWORDS = [
  '$defs',
  'definitions',
  'properties',
  'patternProperties',
  'dependentSchemas',
] as const;

const count = z.number('must be a number').int('must be a whole number').min(0, 'must be at least 0');
const number = z.number('must be a number');
const text = z.string('must be a string');
const flag = z.boolean('must be true or false');
const TYPES = ['array', 'boolean', 'integer', 'null', 'number', 'object', 'string'] as const;
const typeName = z.enum(TYPES, `must be one of ${TYPES.join(', ')}`);

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}
const regex = text.refine(compiles, 'must be a regular expression (ECMAScript, u flag)');
const unique = (a: unknown[]): boolean => new Set(a.map((v) => JSON.stringify(v))).size === a.length;

/** A schema in any position: true, false or a schema object (checked through `schemaObject`). */
const schema: z.ZodType = z.unknown().superRefine((value, ctx) => {
  if (typeof value === 'boolean') return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be a schema (an object, true or false)' });
    return;
  }
  const r = schemaObject.safeParse(value);
  if (!r.success)
    for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message, path: i.path });
});
const schemaList = z.array(schema, 'must be a list of schemas').min(1, 'must not be empty');
const schemaMap = z.record(z.string(), schema, 'must be an object of schemas');

const shape: Record<string, z.ZodType> = {
  $schema: z.enum(
    Object.keys(DIALECTS) as [string, ...string[]],
    `must be one of ${Object.keys(DIALECTS).join(', ')}`,
  ),
  $id: text,
  $anchor: text,
  $dynamicAnchor: text,
  $dynamicRef: text,
  $comment: text,
  $vocabulary: z.record(z.string(), flag),
  $ref: text.regex(/^#(\/.*)?$/, 'must point inside this file ("#" or "#/…")'),
  type: z.union([typeName, z.array(typeName).min(1).refine(unique, 'must not repeat a type')], {
    error: `must be a type name or a list of them (${TYPES.join(', ')})`,
  }),
  enum: z.array(z.unknown(), 'must be a list').min(1, 'must not be empty'),
  const: z.unknown(),
  multipleOf: number.positive('must be greater than 0'),
  maximum: number,
  exclusiveMaximum: number,
  minimum: number,
  exclusiveMinimum: number,
  maxLength: count,
  minLength: count,
  pattern: regex,
  maxItems: count,
  minItems: count,
  uniqueItems: flag,
  maxContains: count,
  minContains: count,
  maxProperties: count,
  minProperties: count,
  required: z.array(text, 'must be a list of property names').refine(unique, 'must not repeat a name'),
  dependentRequired: z.record(z.string(), z.array(text, 'must be a list of property names')),
  dependencies: z.record(z.string(), z.union([z.array(text), schema], 'must be a list of names or a schema')),
  items: z.union([schema, schemaList], 'must be a schema or a list of schemas'),
  title: text,
  description: text,
  default: z.unknown(),
  deprecated: flag,
  readOnly: flag,
  writeOnly: flag,
  examples: z.array(z.unknown(), 'must be a list'),
  format: text,
  contentEncoding: text,
  contentMediaType: text,
};
for (const k of SCHEMA_KEYWORDS) shape[k] = schema;
for (const k of SCHEMA_LIST_KEYWORDS) shape[k] = schemaList;
for (const k of SCHEMA_MAP_KEYWORDS) shape[k] = schemaMap;
shape.patternProperties = z.record(regex, schema, 'must be an object of schemas');

const schemaObject: z.ZodType = z.lazy(() =>
  z
    .object(Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v.optional()])))
    .catchall(z.unknown())
    .superRefine((obj, ctx) => {
      for (const key of Object.keys(obj)) {
        if (!(key in shape) && !key.startsWith('x-')) {
          ctx.addIssue({ code: 'custom', path: [key], message: 'is not a JSON Schema keyword (a typo?)' });
        }
      }
    }),
);

/** Follows a local JSON pointer (`#/a/b`) through the document; undefined when it leads nowhere. */
export function resolvePointer(root: unknown, pointer: string): unknown {
  if (pointer === '#' || pointer === '') return root;
  let node: unknown = root;
  for (const raw of pointer.replace(/^#?\//, '').split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Every `$ref` of the document's schema positions, with its path, for the resolution check. */
function refsOf(
  node: unknown,
  path: (string | number)[],
  out: { path: (string | number)[]; ref: string }[],
): void {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
  const o = node as Record<string, unknown>;
  if (typeof o.$ref === 'string') out.push({ path: [...path, '$ref'], ref: o.$ref });
  for (const k of SCHEMA_KEYWORDS) refsOf(o[k], [...path, k], out);
  for (const k of ['items', ...SCHEMA_LIST_KEYWORDS]) {
    const v = o[k];
    if (Array.isArray(v)) for (const [i, s] of v.entries()) refsOf(s, [...path, k, i], out);
    else if (k === 'items') refsOf(v, [...path, k], out);
  }
  for (const k of SCHEMA_MAP_KEYWORDS) {
    const m = o[k];
    if (m && typeof m === 'object') for (const [n, s] of Object.entries(m)) refsOf(s, [...path, k, n], out);
  }
}

export type SchemaCheck = { ok: true; schema: InputSchema } | { ok: false; field: string; message: string };

const problem = (path: readonly PropertyKey[], message: string): SchemaCheck => ({
  ok: false,
  field: path.map((p) => String(p).slice(0, 40)).join('.') || '(root)',
  message,
});

/** Checks a parsed schema file; the problem names the location inside the file (dotted) or `(root)`. */
export function checkInputSchema(doc: unknown): SchemaCheck {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    return problem([], 'must be a JSON object');
  if (jsonBytes(doc) > MAX_INPUT_SCHEMA_BYTES)
    return problem([], `must be at most ${MAX_INPUT_SCHEMA_BYTES} bytes`);
  const parsed = schemaObject.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return problem(issue?.path ?? [], issue?.message ?? 'is not a schema');
  }
  const root = doc as InputSchema;
  if (root.type !== 'object') {
    return problem(['type'], 'must be "object" (a task\'s input is a JSON object, as tool arguments are)');
  }
  const refs: { path: (string | number)[]; ref: string }[] = [];
  refsOf(root, [], refs);
  for (const { path, ref } of refs) {
    const target = resolvePointer(root, ref);
    if (
      typeof target !== 'boolean' &&
      (target === null || typeof target !== 'object' || Array.isArray(target))
    ) {
      return problem(path, 'must point to a schema in this file');
    }
  }
  return { ok: true, schema: root };
}
