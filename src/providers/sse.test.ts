// The SSE parser and retry arithmetic are pure: property tests over arbitrary splits and inputs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROVIDER_RETRY, parseRetryAfter, providerRetryDelay } from './retry.ts';
import { SseParser } from './sse.ts';

const payload = fc.string({ unit: fc.constantFrom('a', 'b', '{', '"', ' ', ':', 'é') });

describe('SseParser', () => {
  it('yields the same events however the stream is split', () => {
    fc.assert(
      fc.property(
        fc.array(payload, { maxLength: 6 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.array(fc.nat(40), { maxLength: 8 }),
        (datas, eol, cuts) => {
          const text = datas.map((d) => `: comment${eol}data: ${d}${eol}${eol}`).join('');
          const parser = new SseParser();
          const got: string[] = [];
          let rest = text;
          for (const cut of cuts) {
            got.push(...parser.push(rest.slice(0, cut)));
            rest = rest.slice(cut);
          }
          got.push(...parser.push(rest), ...parser.end());
          expect(got).toEqual(datas);
        },
      ),
    );
  });

  it('joins multi-line data and ignores other fields', () => {
    const parser = new SseParser();
    expect(parser.push('event: x\ndata: a\ndata:b\nid: 3\n\n')).toEqual(['a\nb']);
  });
});

describe('retry arithmetic', () => {
  it('never exceeds the cap, never retries past the budget, honours Retry-After up to its cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.double({ min: 0, max: 0.9999, noNaN: true }),
        (n, r) => {
          const d = providerRetryDelay(n, null, PROVIDER_RETRY, () => r);
          if (n >= PROVIDER_RETRY.maxRetries) expect(d).toBeNull();
          else {
            expect(d).toBeGreaterThanOrEqual(0);
            expect(d).toBeLessThan(Math.min(PROVIDER_RETRY.capMs, PROVIDER_RETRY.baseMs * 2 ** n));
          }
        },
      ),
    );
    expect(providerRetryDelay(0, 2_000)).toBe(2_000);
    expect(providerRetryDelay(0, 120_000)).toBeNull();
    expect(providerRetryDelay(PROVIDER_RETRY.maxRetries, 2_000)).toBeNull();
  });

  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('12', now)).toBe(12_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});
