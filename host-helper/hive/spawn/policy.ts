// The host's spawn policy (DESIGN §8): a JSON file on the host, never in a jail. Absent, or present
// without `"enabled": true`, means every spawn is refused. Loading checks the file like host.json
// (owned by the invoking user, not writable by group/others) and validates it with zod: one line
// naming the field on failure. Pure schema + a small loader.
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ClawdieError } from '../../../src/errors.ts';
import { EnvName, formatProblem, MAX_SPAWN_SECONDS } from '../../../src/protocol/index.ts';

export class SpawnPolicyError extends ClawdieError {}

/** Placeholders the executor's argv may use; every value is a validated name (no shell involved). */
export const PLACEHOLDERS = ['child', 'tenant', 'root', 'parent', 'capabilities', 'depth'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** A `{word}` in an executor argument: one of PLACEHOLDERS, else a typo refused at load. */
export const PLACEHOLDER_RE = /\{([A-Za-z_]+)\}/g;

const isPlaceholder = (word: string): word is Placeholder =>
  (PLACEHOLDERS as readonly string[]).includes(word);

/** One executor argument; `{chld}` is refused naming the field (executor.command.N). */
const ExecutorArg = z
  .string()
  .min(1)
  .max(4096)
  .superRefine((arg, ctx) => {
    for (const [placeholder, word] of arg.matchAll(PLACEHOLDER_RE)) {
      if (isPlaceholder(word as string)) continue;
      const known = PLACEHOLDERS.map((p) => `{${p}}`).join(', ');
      ctx.addIssue({ code: 'custom', message: `unknown placeholder ${placeholder} (known: ${known})` });
    }
  });

export const SpawnPolicy = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** Generations below a root tenant: 1 lets queens spawn workers that cannot spawn again. */
    maxDepth: z.number().int().min(1).max(8).default(1),
    maxChildrenPerParent: z.number().int().min(0).max(1000).default(3),
    /** Live (pending or active) spawned tenants under one root tenant, all generations. */
    maxTotalPerTenant: z.number().int().min(0).max(10_000).default(10),
    /** At most `count` spawn attempts per root tenant in any `perSeconds` window. */
    rate: z
      .strictObject({
        count: z.number().int().min(1).max(10_000),
        perSeconds: z
          .number()
          .int()
          .min(1)
          .max(86_400 * 7),
      })
      .default({ count: 10, perSeconds: 3600 }),
    /** The parent agent must have registered the `spawn` capability (the mother skill). */
    requireSpawnCapability: z.boolean().default(true),
    executor: z
      .strictObject({
        /** argv of the command that creates the child, e.g. clawdie-host spawn-agent {child} --jail. */
        command: z
          .array(ExecutorArg)
          .min(1)
          .refine(
            (argv) => path.isAbsolute(argv[0] ?? ''),
            'the program (first entry) must be an absolute path',
          ),
        timeoutSeconds: z.number().int().min(1).max(MAX_SPAWN_SECONDS).default(300),
        /** Variables of the hive's own environment passed on (e.g. CLAWDIE_HOST_CONFIG); nothing else is. */
        passEnv: z.array(EnvName).max(32).default([]),
      })
      .optional(),
  })
  .superRefine((policy, ctx) => {
    if (policy.enabled && !policy.executor) {
      ctx.addIssue({ code: 'custom', path: ['executor'], message: 'is required when enabled' });
    }
    if (policy.executor?.passEnv.some((n) => n === 'CLAWDIE_HIVE_ADMIN_TOKEN')) {
      ctx.addIssue({
        code: 'custom',
        path: ['executor', 'passEnv'],
        message: 'must not pass the hive admin token',
      });
    }
  });
export type SpawnPolicy = z.infer<typeof SpawnPolicy>;

/** The policy when there is no file: everything refused. */
export const DISABLED_POLICY: SpawnPolicy = SpawnPolicy.parse({});

/** Validates already-parsed JSON; throws SpawnPolicyError with one line naming the field. */
export function parseSpawnPolicy(json: unknown): SpawnPolicy {
  const result = SpawnPolicy.safeParse(json);
  if (!result.success) throw new SpawnPolicyError(`spawn policy: ${formatProblem(result.error, 'policy')}`);
  return result.data;
}

/**
 * Reads the policy file. `undefined` → disabled. A missing file named explicitly is an error (a
 * typo must not silently disable what the operator meant to configure — nor enable anything).
 */
export async function loadSpawnPolicy(
  file: string | undefined,
  uid = process.getuid?.() ?? 0,
): Promise<SpawnPolicy> {
  if (file === undefined) return DISABLED_POLICY;
  let stat: Awaited<ReturnType<typeof lstat>>;
  try {
    stat = await lstat(file);
  } catch (err) {
    throw new SpawnPolicyError(
      `spawn policy: ${file} cannot be read (${(err as NodeJS.ErrnoException).code})`,
      {
        cause: err,
      },
    );
  }
  if (!stat.isFile()) throw new SpawnPolicyError(`spawn policy: ${file} must be a regular file, not a link`);
  if (stat.uid !== uid)
    throw new SpawnPolicyError(`spawn policy: ${file} must be owned by the invoking user`);
  if ((stat.mode & 0o022) !== 0) {
    throw new SpawnPolicyError(`spawn policy: ${file} must not be writable by group or others`);
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new SpawnPolicyError(`spawn policy: ${file} is not valid JSON`, { cause: err });
  }
  return parseSpawnPolicy(json);
}
