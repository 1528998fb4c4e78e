// Picks the LLM provider from the agent's `.env` (DESIGN §4): OPENROUTER_API_KEY → OpenRouter,
// else DEEPSEEK_API_KEY → DeepSeek. Base URLs may be overridden by `.env` keys (tests and the demo
// point them at the fake server on loopback). The model: CLAWDIE_MODEL, else the skill's, else a default.
// DeepSeek's default follows its current documentation: `deepseek-chat` and `deepseek-reasoner` were
// retired on 2026-07-24; `deepseek-flash` is the name to use (thinking mode on by default, whose
// reasoning must be sent back on tool-call turns: the echoReasoning quirk, see request.ts). OpenRouter
// gets its `reasoning_details` back on tool-call turns (echoReasoningDetails, request.ts).
import { ClawdieError } from '../errors.ts';
import {
  type ChatProvider,
  createOpenAICompatibleProvider,
  type ProviderConfig,
} from './openai-compatible.ts';

export const PROVIDERS = {
  openrouter: {
    keyVar: 'OPENROUTER_API_KEY',
    baseUrlVar: 'OPENROUTER_BASE_URL',
    baseUrl: 'https://openrouter.ai/api/v1',
    defaultModel: 'openrouter/auto',
    quirks: { echoReasoningDetails: true },
  },
  deepseek: {
    keyVar: 'DEEPSEEK_API_KEY',
    baseUrlVar: 'DEEPSEEK_BASE_URL',
    baseUrl: 'https://api.deepseek.com',
    defaultModel: 'deepseek-flash',
    quirks: { echoReasoning: true },
  },
} as const;
export type ProviderName = keyof typeof PROVIDERS;

export class NoProviderError extends ClawdieError {}

/** Tunables that are not in the `.env` (timeouts, injected sleep for tests). */
export type ProviderTuning = Partial<
  Omit<ProviderConfig, 'name' | 'baseUrl' | 'apiKey' | 'defaultModel' | 'quirks'>
>;

/** Which provider the env selects, without building it (for status output). */
export function selectedProvider(env: Readonly<Record<string, string>>): ProviderName | null {
  for (const name of Object.keys(PROVIDERS) as ProviderName[]) {
    if (env[PROVIDERS[name].keyVar]) return name;
  }
  return null;
}

function checkedBaseUrl(name: ProviderName, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch (err) {
    throw new NoProviderError(`${PROVIDERS[name].baseUrlVar}: must be a URL`, { cause: err });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new NoProviderError(`${PROVIDERS[name].baseUrlVar}: must be http(s)`);
  }
  return url.toString().replace(/\/+$/, '');
}

/** Builds the provider for this `.env`; throws NoProviderError (one line) when no key is set. */
export function providerFromEnv(
  env: Readonly<Record<string, string>>,
  tuning: ProviderTuning = {},
): ChatProvider {
  const name = selectedProvider(env);
  if (name === null) {
    throw new NoProviderError('no LLM provider key in the .env (OPENROUTER_API_KEY or DEEPSEEK_API_KEY)');
  }
  const spec = PROVIDERS[name];
  const override = env[spec.baseUrlVar];
  return createOpenAICompatibleProvider({
    ...tuning,
    name,
    baseUrl: override ? checkedBaseUrl(name, override) : spec.baseUrl,
    apiKey: env[spec.keyVar] ?? '',
    defaultModel: env.CLAWDIE_MODEL || spec.defaultModel,
    quirks: spec.quirks,
  });
}

/** The model for a skill: the tenant's CLAWDIE_MODEL wins, then the skill's choice, then the default. */
export function modelFor(
  env: Readonly<Record<string, string>>,
  skillModel: string | undefined,
): string | undefined {
  return env.CLAWDIE_MODEL || skillModel || undefined;
}
