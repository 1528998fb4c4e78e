// The shapes of an OpenAI-compatible chat exchange as this agent speaks it: messages (system, user,
// assistant with tool calls, tool results), tool definitions, and the provider interface the tool
// loop calls. zod schemas are the one definition; types are inferred from them.
import * as z from 'zod';

/** A tool call as sent back in an assistant message (arguments are the model's raw JSON text). */
export const ToolCall = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});
export type ToolCall = z.infer<typeof ToolCall>;

export const ChatMessage = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: z.string() }),
  z.object({ role: z.literal('user'), content: z.string() }),
  z.object({
    role: z.literal('assistant'),
    content: z.string().nullable(),
    tool_calls: z.array(ToolCall).optional(),
    /** DeepSeek thinking mode: must be sent back on turns that called tools (see request.ts). */
    reasoning_content: z.string().optional(),
    /** OpenRouter's structured reasoning: sent back unmodified on turns that called tools (request.ts). */
    reasoning_details: z.array(z.record(z.string(), z.unknown())).optional(),
  }),
  /** A tool's result: data for the model, never instructions (only ever in this role). */
  z.object({ role: z.literal('tool'), tool_call_id: z.string(), content: z.string() }),
]);
export type ChatMessage = z.infer<typeof ChatMessage>;
export type AssistantMessage = Extract<ChatMessage, { role: 'assistant' }>;

/** OpenAI-compatible `tools` entry: `{type: "function", function: {name, description, parameters}}`. */
export const ToolDefinition = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string(),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()),
  }),
});
export type ToolDefinition = z.infer<typeof ToolDefinition>;

export interface ChatRequest {
  messages: ChatMessage[];
  /** Overrides the provider's default model. */
  model?: string;
  maxTokens?: number;
  temperature?: number;
  /** Offered tools; none (or empty) is a plain completion. `tool_choice` is never sent (request.ts). */
  tools?: ToolDefinition[];
}

/** A tool call assembled from the stream (tool-calls.ts); `arguments` is not parsed yet. */
export interface AssembledToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface ChatResult {
  text: string;
  model: string;
  finishReason: string | null;
  /** Attempts used (1 when the first one succeeded). */
  attempts: number;
  /** Calls the model asked for in this turn, in the order they first appeared. */
  toolCalls: AssembledToolCall[];
  /** Thinking text (DeepSeek `reasoning_content`), kept to be sent back on tool-call turns. */
  reasoning: string;
  /** OpenRouter's `reasoning_details`, whole (reasoning-details.ts), kept to be sent back likewise. */
  reasoningDetails: Record<string, unknown>[];
  /** The provider refused tools for this model; the answer is a plain completion without them. */
  toolsDropped: boolean;
}

export interface ChatOptions {
  signal?: AbortSignal;
  /** Called with each streamed piece of answer text as it arrives. */
  onDelta?: (text: string) => void;
}

export interface ChatProvider {
  readonly name: string;
  readonly defaultModel: string;
  chat(req: ChatRequest, options?: ChatOptions): Promise<ChatResult>;
}

/**
 * The assistant message that records a turn in the history. A tool-call turn keeps its reasoning
 * (even empty) and its reasoning details (when there are any); request.ts sends each only to the
 * provider that wants it back.
 */
export function assistantTurn(result: ChatResult): AssistantMessage {
  const calls = result.toolCalls.map(
    (c): ToolCall => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }),
  );
  return {
    role: 'assistant',
    content: result.text === '' && calls.length > 0 ? null : result.text,
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
    ...(calls.length > 0 ? { reasoning_content: result.reasoning } : {}),
    ...(calls.length > 0 && result.reasoningDetails.length > 0
      ? { reasoning_details: result.reasoningDetails }
      : {}),
  };
}
