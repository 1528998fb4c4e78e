// The wire schemas accept what DESIGN §5 describes and name the field of what they refuse.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatProblem,
  MAX_DESCRIPTORS_BYTES,
  MAX_TOOL_DEPTH,
  RegisterRequest,
  readErrorBody,
  SubmitTaskRequest,
  TaskAssignment,
  TaskResult,
  TenantName,
} from './index.ts';

const registration = (extra: Record<string, unknown> = {}) => ({
  agentId: 'acme-1',
  tenant: 'acme',
  capabilities: ['echo', 'chat'],
  identityHash: 'a'.repeat(64),
  version: '0.1.0',
  os: 'linux',
  ...extra,
});

describe('protocol schemas', () => {
  it('accepts a well-formed registration', () => {
    const ok = RegisterRequest.safeParse(registration({ extra: 'ignored' }));
    expect(ok.success).toBe(true);
  });

  it('names the failing field without echoing its value', () => {
    const bad = RegisterRequest.safeParse(registration({ tenant: 'ACME', capabilities: [] }));
    expect(bad.success).toBe(false);
    if (bad.success) return;
    const line = formatProblem(bad.error);
    expect(line.startsWith('tenant: ')).toBe(true);
    expect(line).not.toContain('ACME');
  });

  it('takes descriptors only for registered capabilities, once each; names alone still register', () => {
    expect(RegisterRequest.safeParse(registration()).success).toBe(true);
    const described = RegisterRequest.safeParse(
      registration({
        descriptors: [
          { name: 'chat', description: 'Answers a message.', inputSchema: { type: 'object' } },
          { name: 'echo' },
        ],
      }),
    );
    expect(described.success).toBe(true);
    const problem = (extra: Record<string, unknown>): string => {
      const r = RegisterRequest.safeParse(registration(extra));
      expect(r.success).toBe(false);
      return r.success ? '' : formatProblem(r.error);
    };
    expect(problem({ descriptors: [{ name: 'chat' }, { name: 'bar-chart-secret' }] })).toBe(
      'descriptors.1.name: must be one of capabilities',
    );
    expect(problem({ descriptors: [{ name: 'chat' }, { name: 'chat' }] })).toBe(
      'descriptors.1.name: is described twice',
    );
    expect(problem({ descriptors: [{ name: 'chat', inputSchema: { x: 'y'.repeat(17_000) } }] })).toMatch(
      /^descriptors\.0\.inputSchema: must serialize to at most 16384 bytes$/,
    );
    const big = (name: string) => ({ name, inputSchema: { d: 'é'.repeat(7000) } });
    const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
    expect(problem({ capabilities: names, descriptors: names.map(big) })).toBe(
      `descriptors: must serialize to at most ${MAX_DESCRIPTORS_BYTES} bytes together`,
    );
  });

  it('bounds a task’s tool depth on submit and in the assignment', () => {
    const submit = (depth: unknown) => SubmitTaskRequest.safeParse({ capability: 'chat', input: 'x', depth });
    expect(submit(undefined).success).toBe(true);
    expect(submit(0).success).toBe(true);
    expect(submit(MAX_TOOL_DEPTH).success).toBe(true);
    for (const bad of [-1, MAX_TOOL_DEPTH + 1, 1.5, '1']) {
      const r = submit(bad);
      expect(r.success, String(bad)).toBe(false);
      if (!r.success) expect(formatProblem(r.error)).toMatch(/^depth: /);
    }
    const leased = { taskId: 't-1', capability: 'chat', input: 1, leaseSeconds: 60 };
    expect(TaskAssignment.parse({ ...leased, depth: 2 }).depth).toBe(2);
    expect(TaskAssignment.parse(leased).depth).toBeUndefined();
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
