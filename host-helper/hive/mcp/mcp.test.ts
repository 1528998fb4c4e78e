// The MCP door's pure parts: results of finished tasks (images found by their bytes and sent once,
// errors as tool errors), tools from catalog entries (schemas kept, permissive or wrapped), keys per
// client instance, and the hostnames Host and Origin may name.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CatalogEntry, TaskView } from '../../../src/protocol/index.ts';
import { callKey, clientOf } from './caller.ts';
import { extractImages, imageOf, toolResult } from './content.ts';
import { allowedHostnames } from './door.ts';
import { TASK_META_KEY } from './names.ts';
import { PERMISSIVE_SCHEMA, taskInputOf, toolOf } from './tools.ts';

/** A PNG header (signature + IHDR with the given size), padded so its base64 is long enough. */
function png(width: number, height: number): Buffer {
  const b = Buffer.alloc(64);
  Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').copy(b);
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  return b;
}

const done = (output: unknown, status: 'ok' | 'error' = 'ok'): TaskView => ({
  taskId: 't-1',
  capability: 'cap',
  state: status === 'ok' ? 'succeeded' : 'failed',
  result: { status, output },
});

describe('toolResult', () => {
  it('an object output: JSON text and structured content, the task in _meta', () => {
    expect(toolResult(done({ a: 1 }))).toEqual({
      content: [{ type: 'text', text: '{"a":1}' }],
      structuredContent: { a: 1 },
      _meta: { [TASK_META_KEY]: 't-1' },
    });
  });

  it('a string output is the text itself; arrays have no structured content', () => {
    expect(toolResult(done('hello')).content).toEqual([{ type: 'text', text: 'hello' }]);
    expect(toolResult(done([1, 2])).structuredContent).toBeUndefined();
  });

  it('images become image content once; the copy in text and structure is a note', () => {
    const base64 = png(480, 288).toString('base64');
    const r = toolResult(
      done({ png: { base64 }, artifacts: [{ base64: `data:image/png;base64,${base64}` }] }),
    );
    expect(r.content.filter((c) => c.type === 'image')).toEqual([
      { type: 'image', data: base64, mimeType: 'image/png' },
      { type: 'image', data: base64, mimeType: 'image/png' },
    ]);
    expect(r.structuredContent).toEqual({
      png: { base64: '[image/png 480×288, 64 bytes: image 1 of this result]' },
      artifacts: [{ base64: '[image/png 480×288, 64 bytes: image 2 of this result]' }],
    });
    expect((r.content[0] as { text: string }).text).not.toContain(base64);
  });

  it('failures, expiry and cancellation are tool errors saying why', () => {
    expect(toolResult(done({ message: 'values.a: must be a number' }, 'error'))).toMatchObject({
      isError: true,
      content: [{ type: 'text', text: 'task t-1 failed: values.a: must be a number' }],
    });
    expect(toolResult({ taskId: 't-2', capability: 'c', state: 'expired' })).toMatchObject({ isError: true });
    expect(toolResult({ taskId: 't-3', capability: 'c', state: 'cancelled' }).content).toEqual([
      { type: 'text', text: 'task t-3 was cancelled' },
    ]);
  });
});

describe('imageOf / extractImages', () => {
  it('takes only base64 whose bytes are an image; leaves every other string as it was', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        // Arbitrary JSON has no image in it: it comes back unchanged, with no images.
        const { data, images } = extractImages(value);
        expect(images).toEqual([]);
        expect(data).toEqual(value);
      }),
    );
    expect(imageOf(Buffer.alloc(64, 1).toString('base64'))).toBeNull();
    expect(imageOf(png(1, 1).toString('base64'))?.mimeType).toBe('image/png');
    expect(imageOf(`${png(1, 1).toString('base64')}x`)).toBeNull();
  });
});

const entry = (over: Partial<CatalogEntry>): CatalogEntry => ({
  name: 'cap',
  servedBy: ['own'],
  liveAgents: 1,
  ...over,
});

describe('toolOf / taskInputOf', () => {
  it('an object schema as is, none as a permissive object, anything else wrapped under input', () => {
    const object = { type: 'object', properties: { n: { type: 'integer' } } };
    expect(toolOf(entry({ inputSchema: object, description: 'Counts.' }))).toEqual({
      name: 'cap',
      description: 'Counts.',
      inputSchema: object,
    });
    expect(toolOf(entry({})).inputSchema).toEqual(PERMISSIVE_SCHEMA);
    expect(toolOf(entry({ servedBy: ['lane'] })).description).toMatch(/shared lane/);
    const wrapped = entry({ inputSchema: { type: 'string' } });
    expect(toolOf(wrapped).inputSchema).toEqual({
      type: 'object',
      properties: { input: { type: 'string' } },
      required: ['input'],
    });
    expect(taskInputOf(wrapped, { input: 'x' })).toBe('x');
    expect(taskInputOf(entry({}), { a: 1 })).toEqual({ a: 1 });
    expect(taskInputOf(entry({}), undefined)).toEqual({});
  });
});

describe('clientOf / callKey', () => {
  it('a session id or a client header names the client; keys differ by client and by request id', () => {
    expect(clientOf({ 'mcp-session-id': 'mcp-abcdef12' })).toBe('mcp-session-id:mcp-abcdef12');
    expect(clientOf({ 'clawdie-mcp-client': 'bridge-0123456789' })).toBe(
      'clawdie-mcp-client:bridge-0123456789',
    );
    expect(clientOf({ 'mcp-session-id': 'short' })).toBeNull();
    expect(clientOf({})).toBeNull();
    const keys = new Set([callKey('a', 1), callKey('b', 1), callKey('a', 2), callKey('a', '1')]);
    expect(keys.size).toBe(4);
    expect(callKey('a', 1)).toBe(callKey('a', 1));
    expect(callKey('a', 1)).toMatch(/^mcp-[0-9a-f]{64}$/);
  });
});

describe('allowedHostnames', () => {
  it('loopback names, the address reached (IPv4-mapped unwrapped, IPv6 bracketed), the public URL host', () => {
    expect(allowedHostnames('::ffff:10.0.0.5', new URL('https://hive.example.org/'))).toEqual([
      'localhost',
      '127.0.0.1',
      '[::1]',
      '10.0.0.5',
      'hive.example.org',
    ]);
    expect(allowedHostnames('fd00::1', null)).toContain('[fd00::1]');
  });
});
