// The tool loop's pure parts: catalog → tools (self excluded, schemas mapped, non-object inputs
// wrapped), binary detection and artifacts, byte-budget truncation (property: never over budget,
// never a broken character), tool message content, and step keys.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../../protocol/index.ts';
import { binaryOf, pngSize } from './binary.ts';
import { stepKey } from './calls.ts';
import { extractBinary, toolContent, truncateBytes } from './results.ts';
import { inputOf, toolbox } from './tools.ts';

/** A real 2×1 PNG header (signature + IHDR) padded to look like an image file. */
const PNG = Buffer.concat([
  Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
  Buffer.from([0, 0, 0, 2, 0, 0, 0, 1, 8, 6, 0, 0, 0]),
  Buffer.alloc(80, 7),
]);

describe('catalog → tools', () => {
  const catalog: CatalogEntry[] = [
    { name: 'chat', description: 'Talks.', servedBy: ['own'], liveAgents: 1 },
    {
      name: 'bar-chart',
      description: 'Draws a chart.',
      inputSchema: { type: 'object', properties: { title: { type: 'string' } } },
      servedBy: ['own'],
      liveAgents: 1,
    },
    { name: 'image-render', servedBy: ['lane'], liveAgents: 2 },
    { name: 'shout', inputSchema: { type: 'string' }, servedBy: ['own', 'lane'], liveAgents: 3 },
  ];

  it('offers every entry but the running skill, as OpenAI-compatible function tools', () => {
    const box = toolbox(catalog, ['chat']);
    expect(box.definitions.map((d) => d.function.name)).toEqual(['bar-chart', 'image-render', 'shout']);
    expect(box.definitions[0]).toEqual({
      type: 'function',
      function: {
        name: 'bar-chart',
        description: 'Draws a chart.',
        parameters: { type: 'object', properties: { title: { type: 'string' } } },
      },
    });
    // No schema: any object; lane-only: said so in the description.
    expect(box.definitions[1]!.function).toMatchObject({
      parameters: { type: 'object', additionalProperties: true },
      description: expect.stringMatching(/shared lane/),
    });
  });

  it('wraps a non-object input schema as {input} and unwraps the call', () => {
    const box = toolbox(catalog, []);
    const shout = box.definitions.find((d) => d.function.name === 'shout')!;
    expect(shout.function.parameters).toMatchObject({
      properties: { input: { type: 'string' } },
      required: ['input'],
    });
    expect(inputOf(box.byName.get('shout')!, { input: 'hey' })).toBe('hey');
    expect(inputOf(box.byName.get('bar-chart')!, { title: 't' })).toEqual({ title: 't' });
  });
});

describe('binary in tool output', () => {
  it('recognises base64 PNGs (and data: URLs), leaves text, ids and hashes alone', () => {
    const b64 = PNG.toString('base64');
    expect(binaryOf(b64)).toMatchObject({ mediaType: 'image/png', width: 2, height: 1 });
    expect(binaryOf(`data:image/png;base64,${b64}`)).toMatchObject({ mediaType: 'image/png' });
    expect(binaryOf('a'.repeat(64))).toBeNull(); // a hex digest, say
    expect(binaryOf('plain words, not base64 at all, long enough to be considered')).toBeNull();
    expect(binaryOf('x'.repeat(4096))).toBeNull();
    const blob = `data:application/octet-stream;base64,${Buffer.alloc(96, 1).toString('base64')}`;
    expect(binaryOf(blob)).toMatchObject({ mediaType: 'application/octet-stream' });
    expect(pngSize(PNG)).toEqual({ width: 2, height: 1 });
  });

  it('replaces binary by a description for the model and keeps it as an artifact', () => {
    const output = { title: 'Sales', png: { format: 'png', base64: PNG.toString('base64') }, n: [1, 2] };
    const { data, artifacts } = extractBinary(output, { tool: 'bar-chart', taskId: 't1' }, 3);
    expect(data).toEqual({
      title: 'Sales',
      png: {
        format: 'png',
        base64: expect.stringMatching(/^\[binary image\/png 2×1, \d+ bytes: .*artifact 3 /),
      },
      n: [1, 2],
    });
    expect(artifacts).toEqual([
      {
        tool: 'bar-chart',
        taskId: 't1',
        path: 'png.base64',
        mediaType: 'image/png',
        bytes: PNG.length,
        width: 2,
        height: 1,
        base64: PNG.toString('base64'),
      },
    ]);
    expect(JSON.stringify(data)).not.toContain(PNG.toString('base64').slice(0, 40));
  });
});

describe('tool message content', () => {
  it('truncation never exceeds the budget before its marker and never splits a character', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.integer({ min: 1, max: 200 }),
        (text, max) => {
          const out = truncateBytes(text, max);
          if (Buffer.byteLength(text) <= max) {
            expect(out).toBe(text);
            return;
          }
          const [kept] = out.split('\n…[truncated by the agent');
          expect(Buffer.byteLength(kept!)).toBeLessThanOrEqual(max);
          expect(text.startsWith(kept!)).toBe(true);
          expect(kept).not.toMatch(/[\uD800-\uDBFF]$/);
          expect(out).toMatch(new RegExp(`has ${Buffer.byteLength(text)} bytes, the first ${max} are shown`));
        },
      ),
    );
  });

  it('ok output as JSON (a string as is), errors as {"error": message}', () => {
    expect(toolContent({ status: 'ok', output: { a: 1 } }, { a: 1 }, 100)).toBe('{"a":1}');
    expect(toolContent({ status: 'ok', output: 'hi' }, 'hi', 100)).toBe('hi');
    expect(toolContent({ status: 'error', output: { message: 'nope' } }, { message: 'nope' }, 100)).toBe(
      '{"error":"nope"}',
    );
  });
});

describe('step keys', () => {
  it('are the same for the same step of the same task, different otherwise, and fit the hive', () => {
    const k = stepKey('task-1', 0, 1, 'add', { a: 1 });
    expect(k).toBe(stepKey('task-1', 0, 1, 'add', { a: 1 }));
    expect(
      new Set([
        k,
        stepKey('task-2', 0, 1, 'add', { a: 1 }),
        stepKey('task-1', 1, 1, 'add', { a: 1 }),
        stepKey('task-1', 0, 0, 'add', { a: 1 }),
        stepKey('task-1', 0, 1, 'add', { a: 2 }),
      ]).size,
    ).toBe(5);
    expect(k.length).toBeLessThanOrEqual(128);
  });
});
