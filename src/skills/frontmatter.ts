// Parses a SKILL.md (Agent Skills format, https://agentskills.io/specification) into a validated
// skill definition. Pure: text + folder name in, `{ok, skill}` or `{ok: false, problem}` out. Every
// problem is one line naming the field, never echoing a value. Our extensions live under `metadata`.
import { parse as parseYaml, YAMLError } from 'yaml';
import * as z from 'zod';
import { CAPABILITY_RE, ENV_NAME_RE, firstProblem } from '../protocol/index.ts';
import { LOOP_BUDGET_BOUNDS } from './loop-budget.ts';

/** Bigger files are refused before parsing (the spec recommends < 500 lines). */
export const MAX_SKILL_MD_BYTES = 256 * 1024;

/** Spec: 1-64 of a-z, 0-9 and "-", no leading, trailing or consecutive hyphen. */
export const SKILL_NAME_RE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const ENTRY_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** The input schema is a JSON file beside SKILL.md: a plain name, no path. */
const SCHEMA_FILE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,122}\.json$/;
/** Node's `process.platform` values; a typo ("linx") is an error rather than a skill that never loads. */
export const KNOWN_OS = [
  'aix',
  'android',
  'cygwin',
  'darwin',
  'freebsd',
  'haiku',
  'linux',
  'netbsd',
  'openbsd',
  'sunos',
  'win32',
] as const;

/** The standard frontmatter: unknown top-level fields are refused, as the reference validator does. */
const requiredString = z.string({
  error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string'),
});

export const SkillFrontmatter = z.strictObject({
  name: requiredString
    .min(1, 'must not be empty')
    .max(64, 'must be at most 64 characters')
    .regex(SKILL_NAME_RE, 'must be a-z, 0-9 and single inner hyphens'),
  description: requiredString
    .max(1024, 'must be at most 1024 characters')
    .refine((s) => s.trim().length > 0, 'must not be empty'),
  license: z.string().min(1, 'must not be empty').max(1024, 'must be at most 1024 characters').optional(),
  compatibility: z.string().min(1, 'must not be empty').max(500, 'must be at most 500 characters').optional(),
  metadata: z.record(z.string(), z.string('must be a string (quote numbers and booleans)')).optional(),
  'allowed-tools': z
    .union([z.string(), z.array(z.string())], 'must be a string or a list of strings')
    .optional(),
});
export type SkillFrontmatter = z.infer<typeof SkillFrontmatter>;

/** "a, b c" → ["a", "b", "c"]: metadata values are strings, our lists are comma/space separated. */
export const splitList = (value: string | undefined): string[] =>
  value === undefined ? [] : value.split(/[\s,]+/).filter((s) => s.length > 0);

/** A whole number from metadata (a string there), within bounds. */
const wholeNumber = ({ min, max }: { min: number; max: number }) =>
  z.coerce
    .number('must be a number')
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .optional();

const listOf = (re: RegExp, what: string) =>
  z
    .string()
    .optional()
    .transform(splitList)
    .pipe(z.array(z.string().regex(re, `each entry must be ${what}`)));

/** Our extensions, read from `metadata` (other keys such as author/version are left alone). */
export const SkillExtensions = z
  .object({
    capabilities: listOf(CAPABILITY_RE, 'a capability name (a-z, 0-9, "-")'),
    env: listOf(ENV_NAME_RE, 'a variable name (A-Z, 0-9, "_")'),
    os: z
      .string()
      .optional()
      .transform(splitList)
      .pipe(z.array(z.enum(KNOWN_OS, `each entry must be one of ${KNOWN_OS.join(', ')}`))),
    borrows: listOf(CAPABILITY_RE, 'a capability name (a-z, 0-9, "-")'),
    runs: z.enum(['prompt', 'script'], 'must be "prompt" or "script"').default('prompt'),
    entry: z.string().regex(ENTRY_RE, 'must be a file name inside scripts/ (no slashes)').optional(),
    model: z.string().min(1).max(200, 'must be at most 200 characters').optional(),
    'timeout-seconds': wholeNumber({ min: 1, max: 3600 }),
    /** A JSON Schema of the task input, beside SKILL.md (checked at discovery: input-schema.ts). */
    'input-schema': z
      .string()
      .regex(SCHEMA_FILE_RE, 'must be a .json file name beside SKILL.md (no slashes)')
      .optional(),
    // The tool loop's budgets (loop-budget.ts has their defaults and the accessor).
    'max-steps': wholeNumber(LOOP_BUDGET_BOUNDS['max-steps']),
    'max-tool-result-bytes': wholeNumber(LOOP_BUDGET_BOUNDS['max-tool-result-bytes']),
    'max-concurrent-tools': wholeNumber(LOOP_BUDGET_BOUNDS['max-concurrent-tools']),
  })
  .superRefine((ext, ctx) => {
    if (ext.runs === 'script' && ext.entry === undefined) {
      ctx.addIssue({ code: 'custom', path: ['entry'], message: 'is required when runs is "script"' });
    }
  });
export type SkillExtensions = z.infer<typeof SkillExtensions>;

/** A parsed, valid skill definition (without its location on disk). */
export interface SkillDefinition {
  frontmatter: SkillFrontmatter;
  extensions: SkillExtensions;
  /** The Markdown after the frontmatter: the instructions of a prompt skill. */
  body: string;
}

export interface SkillProblem {
  /** The frontmatter field at fault (dotted), or `frontmatter` / `SKILL.md` for structural problems. */
  field: string;
  message: string;
}

export type ParseResult = { ok: true; skill: SkillDefinition } | { ok: false; problem: SkillProblem };

const fail = (field: string, message: string): ParseResult => ({
  ok: false,
  problem: { field, message: message.replace(/\s+/g, ' ').trim() },
});

/** Splits `---\n<yaml>\n---\n<body>`; returns null when there is no well-formed frontmatter block. */
export function splitFrontmatter(text: string): { yaml: string; body: string } | { error: string } {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = source.split(/\r?\n/);
  if (lines[0]?.trimEnd() !== '---') return { error: 'must start with a "---" line' };
  const end = lines.findIndex((line, i) => i > 0 && line.trimEnd() === '---');
  if (end < 0) return { error: 'has no closing "---" line' };
  return {
    yaml: lines.slice(1, end).join('\n'),
    body: lines
      .slice(end + 1)
      .join('\n')
      .trim(),
  };
}

/** The failing field (dotted, under `prefix`) and zod's message, which never contains the value. */
function problemOf(error: z.ZodError, prefix: string): ParseResult {
  const { field, message } = firstProblem(error);
  const full = [prefix, field.slice(0, 80)].filter((s) => s.length > 0).join('.');
  return fail(full || 'frontmatter', message);
}

/** Parses and validates one SKILL.md whose folder is named `folder`. Never throws. */
export function parseSkillMd(text: string, folder: string): ParseResult {
  if (Buffer.byteLength(text) > MAX_SKILL_MD_BYTES) {
    return fail('SKILL.md', `is larger than ${MAX_SKILL_MD_BYTES} bytes`);
  }
  const parts = splitFrontmatter(text);
  if ('error' in parts) return fail('frontmatter', parts.error);
  let data: unknown;
  try {
    // Aliases are capped so a "billion laughs" frontmatter cannot blow up memory.
    data = parseYaml(parts.yaml, {
      maxAliasCount: 50,
      prettyErrors: true,
      uniqueKeys: true,
      logLevel: 'error', // errors throw; warnings would print frontmatter text to stderr
    });
  } catch (err) {
    const detail =
      err instanceof YAMLError && err.linePos // +1: the opening "---" is line 1 of the file
        ? `${err.code} at line ${err.linePos[0].line + 1}`
        : err instanceof YAMLError
          ? err.code
          : 'unreadable';
    return fail('frontmatter', `is not valid YAML (${detail})`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return fail('frontmatter', 'must be a YAML mapping');
  }
  const front = SkillFrontmatter.safeParse(data);
  if (!front.success) {
    const issue = front.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => k.slice(0, 40)).join(', ');
      return fail(
        keys.split(', ')[0] ?? 'frontmatter',
        `unknown field(s) ${keys}; put extensions under metadata`,
      );
    }
    return problemOf(front.error, '');
  }
  if (front.data.name !== folder) {
    return fail('name', 'must match the folder name');
  }
  const ext = SkillExtensions.safeParse(front.data.metadata ?? {});
  if (!ext.success) {
    return problemOf(ext.error, 'metadata');
  }
  return { ok: true, skill: { frontmatter: front.data, extensions: ext.data, body: parts.body } };
}
