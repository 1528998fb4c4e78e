// Property tests of the pure item → env mapping and of the dotenv spelling (envfile/entry.ts) whose
// round-trip defines which values are representable (real dotenv parser, no mocks).
import { parse as parseDotenv } from 'dotenv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dotenvQuote } from '../../host-helper/envfile/entry.ts';
import { VaultError } from '../../host-helper/vault/errors.ts';
import { collectionEntries, itemEntries } from '../../host-helper/vault/mapping.ts';
import { ENV_NAME_RE } from '../../src/protocol/names.ts';
import { thrownBy } from '../support/thrown.ts';

const envName = fc.stringMatching(ENV_NAME_RE).filter((n) => n.length <= 20);
const anyValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom("'", '"', '`', '\\', 'n', 'r', '#', ' ', '=', '$', '\n', '\t', 'a'),
    maxLength: 12,
  }),
);

const errorOf = (fn: () => unknown): VaultError => thrownBy(VaultError, fn);

describe('dotenvQuote', () => {
  it('round-trips every value it accepts through dotenv', () => {
    fc.assert(
      fc.property(envName, anyValue, (name, value) => {
        const rendered = dotenvQuote(value);
        if (rendered === null) return;
        expect(parseDotenv(`${name}=${rendered}\nNEXT_KEY=x\n`)).toEqual({ [name]: value, NEXT_KEY: 'x' });
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts every single-line printable value that lacks one of the three quote kinds', () => {
    const printable = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    });
    fc.assert(
      fc.property(printable, (value) => {
        const lacksAQuote =
          !value.includes("'") || !value.includes('`') || !(value.includes('"') || value.includes('\\'));
        expect(dotenvQuote(value) !== null).toBe(lacksAQuote);
      }),
    );
  });

  it('refuses multi-line values, control characters and lone surrogates; plain values stay plain', () => {
    for (const v of ['a\nb', 'a\r\nb', 'a\rb', 'nul\u0000', 'del\u007f', 'esc\u001b', 'half\ud800'])
      expect(dotenvQuote(v)).toBeNull();
    expect(dotenvQuote('tab\there')).toBe("'tab\there'");
    expect(dotenvQuote('sk-or_1.2:3@x+y,z=')).toBe('sk-or_1.2:3@x+y,z=');
    expect(dotenvQuote('two words')).toBe("'two words'");
  });
});

describe('itemEntries', () => {
  it('maps logins, notes and custom fields, and never echoes a value in an error', () => {
    fc.assert(
      fc.property(envName, envName, anyValue, fc.boolean(), (name, fieldName, value, isNote) => {
        const item = {
          id: 'item-1',
          type: isNote ? 2 : 1,
          name,
          notes: isNote ? value : null,
          login: isNote ? null : { password: value },
          fields: [{ name: fieldName, value: 'v', type: 1 }],
          collectionIds: ['c'],
        };
        if (dotenvQuote(value) === null) {
          const err = errorOf(() => itemEntries(item));
          expect(err.code).toBe('item_malformed');
          expect(err.message).toContain('item-1');
          if (value.length > 2) expect(err.message).not.toContain(value);
        } else {
          expect(itemEntries(item)).toEqual([
            { name, value, itemId: 'item-1' },
            { name: fieldName, value: 'v', itemId: 'item-1' },
          ]);
        }
      }),
    );
  });

  it('refuses names that are not variable names, missing values and other item types', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (name) => {
        const item = { id: 'x-9', type: 1, name, login: { password: 'p' } };
        if (ENV_NAME_RE.test(name)) expect(itemEntries(item)).toHaveLength(1);
        else expect(errorOf(() => itemEntries(item)).code).toBe('item_malformed');
      }),
    );
    expect(errorOf(() => itemEntries({ id: 'x-1', type: 1, name: 'A', login: {} })).message).toContain('x-1');
    expect(errorOf(() => itemEntries({ id: 'x-2', type: 3, name: 'CARD' })).message).toContain('type 3');
    expect(errorOf(() => itemEntries({ id: 'x-3', type: 'weird' })).message).toContain('x-3');
  });
});

describe('collectionEntries', () => {
  it('keeps only the collection, sorts by name and refuses a duplicate name naming the item', () => {
    fc.assert(
      fc.property(fc.uniqueArray(envName, { minLength: 1, maxLength: 8 }), (names) => {
        const items = names.map((name, i) => ({
          id: `id-${i}`,
          type: 1,
          name,
          login: { password: `secret-${i}` },
          collectionIds: i % 2 === 0 ? ['mine'] : ['other'],
        }));
        const entries = collectionEntries(items, 'mine');
        expect(entries.map((e) => e.name)).toEqual(names.filter((_, i) => i % 2 === 0).sort());
        const dup = [...items, { ...items[0], id: 'dup-id', collectionIds: ['mine'] }];
        const err = errorOf(() => collectionEntries(dup, 'mine'));
        expect(err.message).toContain('dup-id');
        expect(err.message).not.toContain('secret-');
      }),
    );
  });
});
