// The tools a prompt skill offers its model (DESIGN §7). Pure: the tenant's catalog (GET
// /v1/capabilities) minus the running skill's own capabilities in; OpenAI-compatible `tools` out,
// plus how a call's arguments become the capability's input. A capability whose input schema is
// not an object (tools take JSON objects) is offered as `{input: <its schema>}` and unwrapped.
import type { CatalogEntry } from '../../protocol/index.ts';
import type { ToolDefinition } from '../../providers/messages.ts';

export interface Tool {
  name: string;
  /** The arguments object is `{input}`: the capability's input is its `input` field. */
  wrapped: boolean;
}

export interface Toolbox {
  definitions: ToolDefinition[];
  byName: ReadonlyMap<string, Tool>;
}

export const NO_TOOLS: Toolbox = { definitions: [], byName: new Map() };

/** Any JSON object: what a capability without a declared schema is offered with. */
const ANY_OBJECT = { type: 'object', additionalProperties: true };

export function toolbox(catalog: readonly CatalogEntry[], exclude: readonly string[]): Toolbox {
  const definitions: ToolDefinition[] = [];
  const byName = new Map<string, Tool>();
  for (const entry of catalog) {
    if (exclude.includes(entry.name) || byName.has(entry.name)) continue;
    const schema = entry.inputSchema;
    const wrapped = schema !== undefined && schema.type !== 'object';
    const parameters = schema === undefined ? ANY_OBJECT : wrapped ? wrap(schema) : schema;
    const lane = entry.servedBy.includes('own') ? '' : ' (served by a shared lane of the hive)';
    const description = `${entry.description ?? `The ${entry.name} capability of the hive.`}${lane}`;
    definitions.push({ type: 'function', function: { name: entry.name, description, parameters } });
    byName.set(entry.name, { name: entry.name, wrapped });
  }
  return { definitions, byName };
}

function wrap(schema: Record<string, unknown>): Record<string, unknown> {
  return { type: 'object', properties: { input: schema }, required: ['input'], additionalProperties: false };
}

/** The capability's input from a call's parsed arguments. */
export function inputOf(tool: Tool, args: unknown): unknown {
  if (!tool.wrapped) return args;
  return args !== null && typeof args === 'object' && 'input' in args
    ? (args as { input: unknown }).input
    : args;
}
