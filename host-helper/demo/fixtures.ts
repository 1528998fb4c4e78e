// What the demo's vault holds and which LLM provider the chat uses. Pure: the environment in, the
// vault test server's fixture and a description out. With OPENROUTER_API_KEY or DEEPSEEK_API_KEY set,
// that key goes into the demo tenant's vault item (and from there, through provisioning, into its
// .env); otherwise the chat goes to the offline fake provider, whose URL goes into the vault as
// OPENROUTER_BASE_URL. The key itself is never part of any description.
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EXIT, HostError } from '../exit-codes.ts';

export const DEMO_TENANT = 'acme';
export const DEMO_LANE = 'lane-render';
export const ORGANIZATION = 'Clawdie';

export type ProviderChoice =
  | { kind: 'real'; keyVar: 'OPENROUTER_API_KEY' | 'DEEPSEEK_API_KEY'; name: string }
  | { kind: 'fake' };

/** Pure: the real provider when a key is in the environment, else the offline fake. */
export function chooseProvider(env: NodeJS.ProcessEnv): ProviderChoice {
  if (env.OPENROUTER_API_KEY) return { kind: 'real', keyVar: 'OPENROUTER_API_KEY', name: 'OpenRouter' };
  if (env.DEEPSEEK_API_KEY) return { kind: 'real', keyVar: 'DEEPSEEK_API_KEY', name: 'DeepSeek' };
  return { kind: 'fake' };
}

interface FixtureItem {
  name: string;
  type: 'login' | 'note';
  password?: string;
  notes?: string;
}

/** Pure: the vault test server's fixture (org Clawdie: the demo tenant and the shared lane). */
export function demoFixture(
  provider: ProviderChoice,
  env: NodeJS.ProcessEnv,
  fakeLlmUrl: string | undefined,
  random: (n: number) => string = (n) => randomBytes(n).toString('base64url'),
) {
  const tenantItems: FixtureItem[] =
    provider.kind === 'real'
      ? [{ name: provider.keyVar, type: 'login', password: env[provider.keyVar] ?? '' }]
      : [
          { name: 'OPENROUTER_API_KEY', type: 'login', password: `sk-demo-offline-${random(12)}` },
          { name: 'OPENROUTER_BASE_URL', type: 'note', notes: fakeLlmUrl ?? '' },
          { name: 'CLAWDIE_MODEL', type: 'note', notes: 'fake/offline-demo' },
        ];
  return {
    user: { email: 'host@demo.clawdie.test', password: random(18), clientSecret: random(24) },
    organizations: [
      {
        name: ORGANIZATION,
        collections: [
          { name: DEMO_TENANT, items: tenantItems },
          // The lane renders images only; the .env schema still wants a provider key.
          {
            name: DEMO_LANE,
            items: [
              { name: 'OPENROUTER_API_KEY', type: 'login', password: `sk-lane-unused-${random(12)}` },
            ] as FixtureItem[],
          },
        ],
      },
    ],
  };
}

/**
 * Loads a module of the source checkout's test support (vault test server, fake LLM) by a computed
 * URL, so bundlers leave it out of dist/clawdie-host.mjs: the demo runs from the repository.
 */
export async function loadDevModule<T>(relFromRepo: string): Promise<T> {
  const url = new URL(`../../${relFromRepo}`, import.meta.url);
  try {
    return (await import(pathToFileURL(fileURLToPath(url)).href)) as T;
  } catch (err) {
    throw new HostError(
      `the demo needs the source checkout (${relFromRepo} not loadable); run it with npm start`,
      EXIT.failure,
      { cause: err },
    );
  }
}
