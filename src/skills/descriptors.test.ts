// The descriptors an agent registers: echo's own, the serving skill's description and schema per
// capability, and the hive's bounds applied before sending (a registration never fails on them).
import { describe, expect, it } from 'vitest';
import {
  MAX_DESCRIPTION_CHARS,
  MAX_DESCRIPTORS_BYTES,
  MAX_INPUT_SCHEMA_BYTES,
  RegisterRequest,
} from '../protocol/index.ts';
import { type Describable, describeCapabilities, ECHO_DESCRIPTOR } from './descriptors.ts';

const skill = (description: string, inputSchema?: Record<string, unknown>): Describable => ({
  frontmatter: { description },
  ...(inputSchema ? { inputSchema } : {}),
});

describe('describeCapabilities', () => {
  it('describes echo, and every other capability by the skill that serves it', () => {
    const schema = { type: 'object', properties: { message: { type: 'string' } } };
    const routes = new Map([
      ['chat', skill('Answers a message.', schema)],
      ['plain', skill('  No schema here.  ')],
    ]);
    expect(describeCapabilities(['chat', 'echo', 'plain', 'unrouted'], routes)).toEqual([
      { name: 'chat', description: 'Answers a message.', inputSchema: schema },
      ECHO_DESCRIPTOR,
      { name: 'plain', description: 'No schema here.' },
    ]);
  });

  it('fits the hive’s bounds: long descriptions cut, the biggest schemas left out first', () => {
    const big = (n: number) => ({ type: 'object', description: 'é'.repeat(n) });
    const names = Array.from({ length: 40 }, (_, i) => `cap-${String(i).padStart(2, '0')}`);
    const routes = new Map(
      names.map((n, i) => [
        n,
        skill('d'.repeat(5000), big(i === 0 ? 7000 : (MAX_INPUT_SCHEMA_BYTES - 100) / 2)),
      ]),
    );
    const out = describeCapabilities(['echo', ...names], routes);
    expect(out).toHaveLength(41);
    expect(out.every((d) => (d.description?.length ?? 0) <= MAX_DESCRIPTION_CHARS)).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(out))).toBeLessThanOrEqual(MAX_DESCRIPTORS_BYTES);
    const kept = out.filter((d) => d.inputSchema !== undefined).map((d) => d.name);
    // The smallest one (cap-00) is kept; the big equal ones go until the rest fits.
    expect(kept).toContain('cap-00');
    expect(kept.length).toBeGreaterThan(1);
    expect(kept.length).toBeLessThan(41);
    const reg = RegisterRequest.safeParse({
      agentId: 'a-1',
      tenant: 'acme',
      capabilities: ['echo', ...names],
      descriptors: out,
      identityHash: 'a'.repeat(64),
      version: '1',
      os: 'linux',
    });
    expect(reg.success).toBe(true);
  });
});
