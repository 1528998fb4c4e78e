// The `.env` contract (DESIGN §4): dotenv text in, a validated, frozen record out — or one line that
// names the offending key and never its value. Unknown keys are kept (skills may declare them).
// This is THE contract: the agent applies it to the file it reads, the host to the file it renders
// before writing (host-helper/envfile/render.ts), so a tenant is never `active` with an agent that
// would refuse its .env.
import { parse } from 'dotenv';
import * as z from 'zod';
import { ENV_SETTING_NAMES, HivePins, PrivateNetworkFlag, transportProblem } from '../hive/tls/policy.ts';
import { firstProblem, formatProblem } from '../protocol/format-issue.ts';
import { ENV_NAME_RE, TenantName } from '../protocol/names.ts';

/** An env file bigger than this is not ours (bytes, as on disk). */
export const MAX_ENV_BYTES = 64 * 1024;
/** The refusal of a file over MAX_ENV_BYTES, by its size on disk or by its text. */
export const TOO_LARGE = `is larger than ${MAX_ENV_BYTES} bytes`;
/** The longest token or API key the agent takes. */
export const MAX_SECRET_CHARS = 4096;

const Secret = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_SECRET_CHARS, `must be at most ${MAX_SECRET_CHARS} characters`);

const HiveUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password;
  } catch {
    return false;
  }
}, 'must be an http(s) URL without credentials');

export const AgentEnv = z
  .looseObject({
    CLAWDIE_TENANT: TenantName,
    CLAWDIE_HIVE_URL: HiveUrl,
    CLAWDIE_HIVE_TOKEN: Secret,
    OPENROUTER_API_KEY: Secret.optional(),
    DEEPSEEK_API_KEY: Secret.optional(),
    CLAWDIE_MODEL: z.string().min(1).max(200).optional(),
    /** Pins of the hive's public key (hive/tls/policy.ts); with them only that key is trusted. */
    CLAWDIE_HIVE_TLS_PIN: HivePins.optional(),
    /** The explicit switch that allows a plain http:// hive URL off loopback. */
    CLAWDIE_HIVE_PRIVATE_NETWORK: PrivateNetworkFlag.optional(),
  })
  .refine((e) => e.OPENROUTER_API_KEY !== undefined || e.DEEPSEEK_API_KEY !== undefined, {
    message: 'one of OPENROUTER_API_KEY or DEEPSEEK_API_KEY is required',
    path: ['OPENROUTER_API_KEY'],
  })
  // How the hive may be reached: the rule shared with clawdie-host and the MCP bridge.
  .superRefine((e, ctx) => {
    const p = transportProblem(
      {
        url: e.CLAWDIE_HIVE_URL,
        pins: e.CLAWDIE_HIVE_TLS_PIN,
        privateNetwork: e.CLAWDIE_HIVE_PRIVATE_NETWORK !== undefined,
      },
      ENV_SETTING_NAMES,
    );
    if (p) ctx.addIssue({ code: 'custom', path: [p.field], message: p.message });
  });

/** Every value is a string (dotenv gives nothing else); the known keys are checked above. */
export type AgentEnv = Readonly<z.infer<typeof AgentEnv> & Record<string, string>>;

/** A refusal names the rule, and `key` the variable it is about when there is one (never a value). */
export type EnvParse = { ok: true; env: AgentEnv } | { ok: false; reason: string; key?: string };

export function parseEnvText(text: string): EnvParse {
  if (Buffer.byteLength(text, 'utf8') > MAX_ENV_BYTES) return { ok: false, reason: TOO_LARGE };
  if (text.includes('\0')) return { ok: false, reason: 'contains a NUL byte' };
  const raw = parse(text);
  const keys = Object.keys(raw);
  if (keys.length === 0) return { ok: false, reason: 'holds no KEY=value lines' };
  // Keys must be shell-safe names; the reason says which by position, not by echoing it.
  const badKey = keys.findIndex((k) => !ENV_NAME_RE.test(k));
  if (badKey >= 0)
    return { ok: false, reason: `key #${badKey + 1} is not a valid variable name`, key: keys[badKey] };
  const result = AgentEnv.safeParse(raw);
  if (!result.success) {
    const key = firstProblem(result.error).field.split('.')[0];
    return { ok: false, reason: formatProblem(result.error, 'env'), ...(key ? { key } : {}) };
  }
  return { ok: true, env: Object.freeze({ ...raw, ...result.data }) as AgentEnv };
}
