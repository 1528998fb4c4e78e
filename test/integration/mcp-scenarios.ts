// The MCP tool scenarios every way in must pass (HTTP in either protocol era, the stdio bridge, two
// PostgreSQL replicas): the tenant's catalog as tools, calls of echo, chat (fake provider) and
// bar-chart (an image), a failing task as a tool error, another tenant's private capability neither
// listed nor callable, and progress with cancellation of a queued and of a leased task — which the
// hive records as `cancelled`, and the agent running the leased one stops.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type McpWorld, taskOfProgress, taskState, until } from './mcp-world.ts';

interface Block {
  type: string;
  text?: string;
  data?: string;
  mimeType?: string;
}

const blocks = (r: unknown): Block[] => (r as { content: Block[] }).content;
const taskOf = (r: unknown): string => (r as { _meta: Record<string, string> })._meta['io.clawdie/taskId']!;

/** A call that is expected to be cancelled: its progress messages, and a way to wait for one. */
function cancellableCall(client: Client, args: Record<string, unknown>) {
  const controller = new AbortController();
  const messages: string[] = [];
  const done = client
    .callTool(
      { name: 'slow', arguments: args },
      { signal: controller.signal, onprogress: (p) => void messages.push(p.message ?? '') },
    )
    .then(
      () => 'answered',
      () => 'rejected',
    );
  const progress = (state: string): Promise<string> =>
    until(`progress "${state}"`, async () => taskOfProgress(messages.find((m) => m.endsWith(` ${state}`))));
  return { controller, messages, done, progress };
}

/** The scenarios share one client (a bridge process is started once for all of them). */
export function defineToolScenarios(world: () => McpWorld, connect: () => Promise<Client>): void {
  describe('tools', () => {
    let client: Client;
    beforeAll(async () => {
      client = await connect();
    }, 30_000);
    afterAll(() => client?.close());

    it("lists the tenant's catalog: its own agent's and the lane's, never another tenant's private one", async () => {
      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name).sort();
      expect(names).toEqual(expect.arrayContaining(['bar-chart', 'chat', 'echo', 'image-render', 'slow']));
      expect(names).not.toContain('globex-secret');
      for (const t of tools) expect(t.inputSchema.type).toBe('object');
      // Described by the skills' SKILL.md and schema.json, as the agents registered them.
      const chat = tools.find((t) => t.name === 'chat')!;
      expect(chat.description).toMatch(/^Answers a user's message/);
      expect(chat.inputSchema).toMatchObject({
        required: ['message'],
        properties: { message: { type: 'string' } },
      });
      // A capability nobody described (the test skill has no schema) accepts any object.
      expect(tools.find((t) => t.name === 'slow')!.inputSchema).toEqual({
        type: 'object',
        additionalProperties: true,
      });
    });

    it('echo: the output as text and structured content, the hive task named in _meta', async () => {
      const r = await client.callTool({ name: 'echo', arguments: { hello: 'mcp', n: 3 } });
      expect(r.isError).toBeFalsy();
      expect(r.structuredContent).toEqual({ hello: 'mcp', n: 3 });
      expect(JSON.parse(blocks(r)[0]!.text!)).toEqual({ hello: 'mcp', n: 3 });
      expect(await taskState(world().agentUrl, world().tokens.acme, taskOf(r))).toBe('succeeded');
    });

    it("chat answers through acme's agent and the fake provider", async () => {
      const r = await client.callTool({ name: 'chat', arguments: { message: 'hello from MCP' } });
      expect(r.isError).toBeFalsy();
      expect(blocks(r)[0]!.text).toContain('fake reply to: hello from MCP');
      expect((r.structuredContent as { text?: string }).text).toContain('fake reply to: hello from MCP');
    });

    it("chat asked for a chart calls bar-chart in its tool loop; the chart's PNG comes back as image content", async () => {
      const r = await client.callTool({
        name: 'chat',
        arguments: { message: 'Chart the week: mon 3, tue 9, wed 4' },
      });
      expect(r.isError).toBeFalsy();
      const image = blocks(r).find((b) => b.type === 'image')!;
      expect(image.mimeType).toBe('image/png');
      expect(Buffer.from(image.data!, 'base64').subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      const out = r.structuredContent as {
        steps: { tool: string; status: string }[];
        artifacts: { base64: string }[];
      };
      expect(out.steps.map((s) => [s.tool, s.status])).toEqual([['bar-chart', 'ok']]);
      expect(out.artifacts[0]!.base64).toMatch(/^\[image\/png \d+×\d+, \d+ bytes: image 1 of this result\]$/);
    });

    it('bar-chart answers with its PNG as image content, the bytes once', async () => {
      const r = await client.callTool({
        name: 'bar-chart',
        arguments: { title: 'MCP', values: { a: 3, b: 9, c: 4 }, width: 320 },
      });
      expect(r.isError).toBeFalsy();
      const image = blocks(r).find((b) => b.type === 'image')!;
      expect(image.mimeType).toBe('image/png');
      const png = Buffer.from(image.data!, 'base64');
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      expect(png.readUInt32BE(16)).toBe(320);
      const structured = r.structuredContent as { bars: number; png: { base64: string } };
      expect(structured.bars).toBe(3);
      expect(structured.png.base64).toMatch(/^\[image\/png 320×\d+, \d+ bytes: image 1 of this result\]$/);
    });

    it('a failing task is a tool error the model can read, not a protocol error', async () => {
      const r = await client.callTool({ name: 'bar-chart', arguments: { values: { a: 'not a number' } } });
      expect(r.isError).toBe(true);
      expect(blocks(r)[0]!.text).toMatch(/^task [A-Za-z0-9-]+ failed: /);
      expect(await taskState(world().agentUrl, world().tokens.acme, taskOf(r))).toBe('failed');
    });

    it("another tenant's private capability cannot be called (unknown tool, -32602)", async () => {
      await expect(client.callTool({ name: 'globex-secret', arguments: { ms: 1 } })).rejects.toMatchObject({
        code: -32602,
      });
    });

    it('progress while queued and leased; cancelling cancels the queued task and stops the leased one', async () => {
      const w = world();
      // acme's one agent runs the first call; the second waits in the queue behind it.
      const leased = cancellableCall(client, { ms: 120_000 });
      const leasedId = await leased.progress('leased');
      const queued = cancellableCall(client, { ms: 120_000 });
      const queuedId = await queued.progress('queued');
      expect(await taskState(w.agentUrl, w.tokens.acme, queuedId)).toBe('queued');

      queued.controller.abort('changed my mind');
      expect(await queued.done).toBe('rejected');
      await until('the queued task cancelled', async () =>
        (await taskState(w.agentUrl, w.tokens.acme, queuedId)) === 'cancelled' ? true : undefined,
      );
      leased.controller.abort('stop');
      expect(await leased.done).toBe('rejected');
      await until('the leased task cancelled', async () =>
        (await taskState(w.agentUrl, w.tokens.acme, leasedId)) === 'cancelled' ? true : undefined,
      );
      const acme = w.agents.find((a) => a.tenant === 'acme')!;
      await until('the agent stopped the leased task', async () =>
        acme
          .output()
          .split('\n')
          .some((l) => l.includes(leasedId) && l.includes('task cancelled; its result is not posted'))
          ? true
          : undefined,
      );
      // The agent is free again at once (the skill's process was stopped, not waited for).
      const again = await client.callTool({ name: 'slow', arguments: { ms: 10 } });
      expect(again.structuredContent).toEqual({ waited: 10 });
    });
  });
}
