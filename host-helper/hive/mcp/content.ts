// A finished task as an MCP tools/call result (issue 17). Pure: the task's view in, the result out.
//  - succeeded: the output as text (JSON, or the string itself) and, when it is an object, as
//    `structuredContent`; every image inside it (a base64 string or data: URL whose bytes are an
//    image, recognised as the tool loop recognises binary: src/skills/loop/binary.ts — bar-chart's
//    `png.base64`, a chat's `artifacts[].base64`) becomes an MCP image content block, and is
//    replaced in the text and structured copy by a short note, so the bytes travel once;
//  - failed, expired, cancelled: a tool error (`isError: true`) whose text says why, never a
//    protocol error: the model reads it and can decide what to do next.
// `_meta` names the hive task, so a user can look it up (GET /v1/tasks/:id).
import type { TaskView } from '../../../src/protocol/index.ts';
import { binaryOf } from '../../../src/skills/loop/binary.ts';
import { TASK_META_KEY } from './names.ts';

interface TextBlock {
  type: 'text';
  text: string;
}
interface ImageBlock {
  type: 'image';
  data: string;
  mimeType: string;
}

export interface ToolResult {
  [key: string]: unknown;
  content: (TextBlock | ImageBlock)[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  _meta: Record<string, unknown>;
}

/** The image a string carries (base64 or a data: URL, its bytes known by their magic number), or null. */
export function imageOf(
  value: string,
): { mimeType: string; bytes: Buffer; width?: number; height?: number } | null {
  const b = binaryOf(value);
  if (!b?.mediaType.startsWith('image/')) return null;
  return { mimeType: b.mediaType, bytes: b.bytes, ...(b.width ? { width: b.width, height: b.height } : {}) };
}

/** Replaces every image inside `output` by a note, collecting the images as content blocks. */
export function extractImages(output: unknown): { data: unknown; images: ImageBlock[] } {
  const images: ImageBlock[] = [];
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const image = imageOf(value);
      if (!image) return value;
      images.push({ type: 'image', data: image.bytes.toString('base64'), mimeType: image.mimeType });
      const size = image.width ? ` ${image.width}×${image.height}` : '';
      return `[${image.mimeType}${size}, ${image.bytes.length} bytes: image ${images.length} of this result]`;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    }
    return value;
  };
  return { data: walk(output), images };
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** An error output's message when it has one, else the output as JSON. */
function errorText(output: unknown): string {
  if (isRecord(output) && typeof output.message === 'string') return output.message;
  if (typeof output === 'string') return output;
  return JSON.stringify(output ?? null);
}

const error = (taskId: string, text: string): ToolResult => ({
  content: [{ type: 'text', text }],
  isError: true,
  _meta: { [TASK_META_KEY]: taskId },
});

/** The tools/call result of a task in a terminal state. */
export function toolResult(view: TaskView): ToolResult {
  const { taskId } = view;
  if (view.state === 'expired')
    return error(taskId, `task ${taskId} expired: no agent took it before its time to live ended`);
  if (view.state === 'cancelled') return error(taskId, `task ${taskId} was cancelled`);
  if (view.state !== 'succeeded' || view.result?.status !== 'ok') {
    return error(taskId, `task ${taskId} failed: ${errorText(view.result?.output)}`);
  }
  const { data, images } = extractImages(view.result.output);
  const text = typeof data === 'string' ? data : JSON.stringify(data ?? null);
  return {
    content: [{ type: 'text', text }, ...images],
    ...(isRecord(data) ? { structuredContent: data } : {}),
    _meta: { [TASK_META_KEY]: taskId },
  };
}
