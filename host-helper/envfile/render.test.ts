// Property tests of the pure .env renderer: whatever the values, the output either parses back
// through dotenv to exactly the same pairs, or rendering refuses with an error naming the item id
// (never the value).
import { parse } from 'dotenv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RenderError, renderEnv } from './render.ts';

const host = { tenant: 'acme', hiveUrl: 'http://127.0.0.1:1', hiveToken: 'tok' };
const lacksOneQuoteKind = (v: string): boolean => !(v.includes("'") && v.includes('"') && v.includes('`'));
const name = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,20}$/).filter((n) => !n.startsWith('CLAWDIE_'));

describe('renderEnv', () => {
  it('round-trips through dotenv or refuses naming the item, for any values', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(name, fc.string({ unit: 'binary', maxLength: 40 })), {
          selector: (t) => t[0],
          maxLength: 6,
        }),
        (pairs) => {
          const entries = pairs.map(([n, value], i) => ({ name: n, value, itemId: `item-${i}` }));
          try {
            const text = renderEnv(entries, host);
            const back = parse(text);
            expect(back).toEqual({
              CLAWDIE_TENANT: 'acme',
              CLAWDIE_HIVE_URL: host.hiveUrl,
              CLAWDIE_HIVE_TOKEN: 'tok',
              ...Object.fromEntries(pairs),
            });
          } catch (err) {
            expect(err).toBeInstanceOf(RenderError);
            expect((err as Error).message).toMatch(/^item item-\d+: /);
            for (const [, value] of pairs)
              if (value.length > 3) expect((err as Error).message).not.toContain(value);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('renders every printable value without a quote of each kind', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[ -~]{0,40}$/).filter(lacksOneQuoteKind), (value) => {
        const text = renderEnv([{ name: 'V', value, itemId: 'i' }], host);
        expect(parse(text).V).toBe(value);
      }),
      { numRuns: 300 },
    );
  });

  it('is stable (sorted) and refuses host keys, duplicates and bad names', () => {
    const a = renderEnv(
      [
        { name: 'B', value: '2', itemId: 'x' },
        { name: 'A', value: '1', itemId: 'y' },
      ],
      host,
    );
    expect(a.split('\n').slice(3, 5)).toEqual(['A=1', 'B=2']);
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
    expect(() => renderEnv([{ name: 'a-b', value: '1', itemId: 'i3' }], host)).toThrow(/item i3/);
  });

  it('carries host.json’s hive pin and private-network switch, which a collection may not set', () => {
    const pin = `sha256/${'A'.repeat(43)}=`;
    const text = renderEnv([], { ...host, hivePins: pin, hivePrivateNetwork: true });
    expect(text).toContain(`CLAWDIE_HIVE_TLS_PIN=${pin}\n`);
    expect(text).toContain('CLAWDIE_HIVE_PRIVATE_NETWORK=yes\n');
    expect(renderEnv([], host)).not.toMatch(/TLS_PIN|PRIVATE_NETWORK/);
    expect(() => renderEnv([{ name: 'CLAWDIE_HIVE_TLS_PIN', value: pin, itemId: 'i4' }], host)).toThrow(
      /item i4: .*set by the host/,
    );
  });
});
