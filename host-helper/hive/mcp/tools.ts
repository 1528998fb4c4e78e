// The tenant's capability catalog as MCP tools, and a tool call's arguments as the task's input.
// Pure. MCP tool arguments are always a JSON object (`inputSchema.type` must be "object"):
//  - a capability whose input schema describes an object is offered with that schema as is, and
//    its arguments are the task's input;
//  - one without a schema gets a permissive object schema, and its arguments are the input;
//  - one whose schema describes anything else (a string, an array) is offered as an object with
//    that schema under `input`, and the task gets `arguments.input`.
// Arguments are not validated here: the agent checks a task's input against the skill's schema and
// refuses it naming the field, which reaches the client as a tool error the model can act on.
import type { CatalogEntry } from '../../../src/protocol/index.ts';

export interface McpTool {
  name: string;
  description: string;
  inputSchema: { type: 'object'; [key: string]: unknown };
}

/** A capability without a schema accepts any object. */
export const PERMISSIVE_SCHEMA = { type: 'object', additionalProperties: true } as const;

const describesObject = (schema: Record<string, unknown>): boolean => schema.type === 'object';

/** Whether the capability's input is wrapped under `input` (its schema is not an object's). */
export const wrapsInput = (entry: CatalogEntry): boolean =>
  entry.inputSchema !== undefined && !describesObject(entry.inputSchema);

export function toolOf(entry: CatalogEntry): McpTool {
  const served = entry.servedBy.includes('own') ? "this tenant's own agent" : 'a shared lane';
  const description = entry.description ?? `The hive capability \`${entry.name}\` (served by ${served}).`;
  let inputSchema: McpTool['inputSchema'];
  if (entry.inputSchema === undefined) inputSchema = { ...PERMISSIVE_SCHEMA };
  else if (describesObject(entry.inputSchema)) inputSchema = entry.inputSchema as McpTool['inputSchema'];
  else inputSchema = { type: 'object', properties: { input: entry.inputSchema }, required: ['input'] };
  return { name: entry.name, description, inputSchema };
}

/** The task input of a call: the arguments, or `arguments.input` for a wrapped capability. */
export function taskInputOf(entry: CatalogEntry, args: Record<string, unknown> | undefined): unknown {
  if (wrapsInput(entry)) return args?.input ?? null;
  return args ?? {};
}
