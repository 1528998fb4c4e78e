// The wire schemas accept what DESIGN §5 describes and name the field of what they refuse.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatProblem,
  RegisterRequest,
  readErrorBody,
  SubmitTaskRequest,
  TaskResult,
  TenantName,
} from './index.ts';

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

describe('readErrorBody (hive, host admin and provider clients)', () => {
  it('reads the hive error shape and the OpenAI-style provider bodies; anything else is no error body', () => {
    const read = (body: unknown) => readErrorBody(typeof body === 'string' ? body : JSON.stringify(body));
    expect(read({ error: { code: 'conflict', message: 'lease expired', field: 'agentId' } })).toEqual({
      code: 'conflict',
      message: 'lease expired',
      field: 'agentId',
    });
    // OpenAI: code null; OpenRouter: a numeric code; the fake provider: a message only.
    expect(read({ error: { message: 'bad model', type: 'invalid_request_error', code: null } })).toEqual({
      message: 'bad model',
    });
    expect(read({ error: { code: 400, message: 'x is not a valid model ID' } })).toEqual({
      code: '400',
      message: 'x is not a valid model ID',
    });
    expect(read({ error: { message: 'not found' } })).toEqual({ message: 'not found' });
    for (const other of ['not json', '', '{"error":"a string"}', '{"message":"no error key"}', 'null']) {
      expect(read(other)).toBeUndefined();
    }
  });
});
