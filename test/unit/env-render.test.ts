// Property tests of the pure .env renderer against the one .env contract (test/support/
// env-contract.ts): whatever the values, the output either parses back through dotenv to exactly
// the same pairs AND is accepted by the agent's own code path (checkEnvFile on a real 0600 file),
// or rendering refuses with one line naming the item id or the rule (never the value).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'dotenv';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { EnvEntry } from '../../host-helper/envfile/entry.ts';
import { RenderError, renderEnv } from '../../host-helper/envfile/render.ts';
import { ENV_NAME_RE } from '../../src/protocol/names.ts';
import { MAX_ENV_BYTES, MAX_SECRET_CHARS } from '../../src/secrets/env-schema.ts';
import { renderUnderContract } from '../support/env-contract.ts';

const host = { tenant: 'acme', hiveUrl: 'http://127.0.0.1:1', hiveToken: 'tok' };
const KEY: EnvEntry = { name: 'OPENROUTER_API_KEY', value: 'sk-or-1', itemId: 'item-99' };
/** What entry.ts can spell: no ' (single quotes), or no " and no backslash (double), or no ` (backticks). */
const spellable = (v: string): boolean =>
  !v.includes("'") || !(v.includes('"') || v.includes('\\')) || !v.includes('`');
const name = fc.stringMatching(ENV_NAME_RE).filter((n) => n.length <= 20 && !n.startsWith('CLAWDIE_'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-render-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Values of every kind, and sizes around the agent's limits. */
const value = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'a\nb', '\'"`', 'x'.repeat(MAX_SECRET_CHARS + 1)) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: MAX_SECRET_CHARS - 2, max: Math.floor(MAX_ENV_BYTES / 3) })
      .map((n) => 'v'.repeat(n)),
  },
);
const entries = fc
  .uniqueArray(
    fc.tuple(
      fc.oneof(name, fc.constantFrom('OPENROUTER_API_KEY', 'DEEPSEEK_API_KEY', 'CLAWDIE_MODEL')),
      value,
    ),
    { selector: (t) => t[0], maxLength: 6 },
  )
  .map((pairs) => pairs.map(([n, v], i): EnvEntry => ({ name: n, value: v, itemId: `item-${i}` })));
/** Mostly with a provider key (else the agent refuses every file for the lack of one). */
const collections = fc
  .tuple(entries, fc.boolean())
  .map(([list, addKey]) => (addKey && !list.some((e) => e.name === KEY.name) ? [KEY, ...list] : list));

describe('renderEnv', () => {
  it('whatever it writes, dotenv reads back exactly and the agent accepts; else one line naming the item or rule', async () => {
    const seen = { accepted: 0, 'agent-item': 0, 'agent-file': 0, 'host-item': 0 };
    await fc.assert(
      fc.asyncProperty(collections, async (list) => {
        seen[await renderUnderContract(list, host, path.join(dir, '.env'))] += 1;
      }),
      { numRuns: 400 },
    );
    // Both sides of the contract were exercised: files the agent takes, and refusals of each kind.
    expect(seen.accepted).toBeGreaterThan(10);
    expect(seen['agent-item']).toBeGreaterThan(0);
    expect(seen['agent-file']).toBeGreaterThan(0);
    expect(seen['host-item']).toBeGreaterThan(0);
  });

  it('refuses what the agent would refuse, naming the item and the rule, never the value', () => {
    const long = { name: 'OPENROUTER_API_KEY', value: 'k'.repeat(MAX_SECRET_CHARS + 1), itemId: 'i-long' };
    expect(() => renderEnv([long], host)).toThrow(
      new RenderError(
        `item i-long: the agent would refuse OPENROUTER_API_KEY: must be at most ${MAX_SECRET_CHARS} characters`,
      ),
    );
    const empty = { name: 'DEEPSEEK_API_KEY', value: '', itemId: 'i-empty' };
    expect(() => renderEnv([empty], host)).toThrow(/^item i-empty: .*DEEPSEEK_API_KEY: must not be empty$/);
    expect(() => renderEnv([{ name: 'EXTRA', value: 'x', itemId: 'i1' }], host)).toThrow(
      /^the agent would refuse this \.env: OPENROUTER_API_KEY: one of OPENROUTER_API_KEY or DEEPSEEK_API_KEY is required$/,
    );
    const big = { name: 'BLOB', value: 'b'.repeat(MAX_ENV_BYTES), itemId: 'i-big' };
    expect(() => renderEnv([KEY, big], host)).toThrow(
      new RenderError(
        `the agent would refuse this .env: is larger than ${MAX_ENV_BYTES} bytes (largest value: item i-big)`,
      ),
    );
  });

  it('renders every printable value one of the quotings can carry', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[ -~]{0,40}$/).filter(spellable), (v) => {
        const text = renderEnv([KEY, { name: 'V', value: v, itemId: 'i' }], host);
        expect(parse(text).V).toBe(v);
      }),
      { numRuns: 300 },
    );
  });

  it('is stable (sorted) and refuses host keys, duplicates and bad names', () => {
    const a = renderEnv(
      [{ name: 'B', value: '2', itemId: 'x' }, { name: 'A', value: '1', itemId: 'y' }, KEY],
      host,
    );
    expect(a.split('\n').slice(3, 6)).toEqual(['A=1', 'B=2', 'OPENROUTER_API_KEY=sk-or-1']);
    expect(() => renderEnv([{ name: 'CLAWDIE_HIVE_TOKEN', value: 'x', itemId: 'i9' }], host)).toThrow(
      /item i9: .*set by the host/,
    );
    expect(() =>
      renderEnv(
        [
          { name: 'A', value: '1', itemId: 'i1' },
          { name: 'A', value: '2', itemId: 'i2' },
        ],
        host,
      ),
    ).toThrow(/item i2: duplicate/);
    expect(() => renderEnv([{ name: 'a-b', value: '1', itemId: 'i3' }], host)).toThrow(
      /^item i3: variable name is not /,
    );
  });

  it('carries host.json’s hive pin and private-network switch, which a collection may not set', () => {
    const pin = `sha256/${'A'.repeat(43)}=`;
    const pinned = renderEnv([KEY], { ...host, hiveUrl: 'https://hive.example.org', hivePins: pin });
    expect(pinned).toContain(`CLAWDIE_HIVE_TLS_PIN=${pin}\n`);
    const priv = renderEnv([KEY], { ...host, hiveUrl: 'http://10.0.0.5:8080', hivePrivateNetwork: true });
    expect(priv).toContain('CLAWDIE_HIVE_PRIVATE_NETWORK=yes\n');
    // The agent's contract holds for what the host writes: a pin needs https.
    expect(() => renderEnv([KEY], { ...host, hivePins: pin })).toThrow(/must be https/);
    expect(renderEnv([KEY], host)).not.toMatch(/TLS_PIN|PRIVATE_NETWORK/);
    expect(() => renderEnv([KEY, { name: 'CLAWDIE_HIVE_TLS_PIN', value: pin, itemId: 'i4' }], host)).toThrow(
      /item i4: .*set by the host/,
    );
  });
});
