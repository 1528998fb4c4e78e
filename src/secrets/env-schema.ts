// The `.env` contract (DESIGN §4): dotenv text in, a validated, frozen record out — or one line that
// names the offending key and never its value. Unknown keys are kept (skills may declare them).
import { parse } from 'dotenv';
import * as z from 'zod';
import { ENV_SETTING_NAMES, HivePins, PrivateNetworkFlag, transportProblem } from '../hive/tls/policy.ts';
import { formatProblem } from '../protocol/format-issue.ts';
import { TenantName } from '../protocol/names.ts';

const Secret = z.string().min(1, 'must not be empty').max(4096, 'is too long');

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

export type EnvParse = { ok: true; env: AgentEnv } | { ok: false; reason: string };

/** Keys must be shell-safe names; anything else is refused by name position, not by value. */
const KEY_RE = /^[A-Z_][A-Z0-9_]*$/;

export function parseEnvText(text: string): EnvParse {
  if (text.includes('\0')) return { ok: false, reason: 'contains a NUL byte' };
  const raw = parse(text);
  const keys = Object.keys(raw);
  if (keys.length === 0) return { ok: false, reason: 'holds no KEY=value lines' };
  const badKey = keys.findIndex((k) => !KEY_RE.test(k));
  if (badKey >= 0) return { ok: false, reason: `key #${badKey + 1} is not a valid variable name` };
  const result = AgentEnv.safeParse(raw);
  if (!result.success) return { ok: false, reason: formatProblem(result.error, 'env') };
  return { ok: true, env: Object.freeze({ ...raw, ...result.data }) as AgentEnv };
}
