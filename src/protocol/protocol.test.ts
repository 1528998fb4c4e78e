// The wire schemas accept what DESIGN §5 describes and name the field of what they refuse.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatProblem, RegisterRequest, SubmitTaskRequest, TaskResult, TenantName } from './index.ts';

describe('protocol schemas', () => {
  it('accepts a well-formed registration', () => {
    const ok = RegisterRequest.safeParse({
      agentId: 'acme-1',
      tenant: 'acme',
      capabilities: ['echo', 'chat'],
      identityHash: 'a'.repeat(64),
      version: '0.1.0',
      os: 'linux',
      extra: 'ignored',
    });
    expect(ok.success).toBe(true);
  });

  it('names the failing field without echoing its value', () => {
    const bad = RegisterRequest.safeParse({
      agentId: 'acme-1',
      tenant: 'ACME',
      capabilities: [],
      identityHash: 'a'.repeat(64),
      version: '1',
      os: 'linux',
    });
    expect(bad.success).toBe(false);
    if (bad.success) return;
    const line = formatProblem(bad.error);
    expect(line.startsWith('tenant: ')).toBe(true);
    expect(line).not.toContain('ACME');
  });

  it('refuses unsafe tenant names', () => {
    for (const name of ['', '../x', 'a'.repeat(64), 'Acme', 'acme\u0301', 'ac me', '-acme', 'acme/x']) {
      expect(TenantName.safeParse(name).success, name).toBe(false);
    }
    expect(TenantName.safeParse('a'.repeat(63)).success).toBe(true);
  });

  it('never throws on arbitrary input, and failures format to one line', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        for (const schema of [RegisterRequest, SubmitTaskRequest, TaskResult]) {
          const r = schema.safeParse(value);
          if (!r.success) expect(formatProblem(r.error)).not.toMatch(/\n/);
        }
      }),
    );
  });
});
