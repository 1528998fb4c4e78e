// A tool's result as the model reads it (DESIGN §7). Pure: the task result in; the `role: "tool"`
// message content (JSON, binary replaced by a short description, cut at the byte budget with a
// marker) and the artifacts kept for the task's final output out.
import type { TaskResult } from '../../protocol/index.ts';
import { binaryOf, describeBinary } from './binary.ts';

/** Binary found in a tool's output: never fed to the model, returned with the final answer. */
export interface Artifact {
  tool: string;
  taskId: string;
  /** Where in the tool's output it was (dotted), e.g. `png.base64`. */
  path: string;
  mediaType: string;
  bytes: number;
  width?: number;
  height?: number;
  base64: string;
}

/** Replaces every binary string inside `output` by its description, collecting the artifacts. */
export function extractBinary(
  output: unknown,
  origin: { tool: string; taskId: string },
  firstArtifactNo: number,
): { data: unknown; artifacts: Artifact[] } {
  const artifacts: Artifact[] = [];
  const walk = (value: unknown, path: string[]): unknown => {
    if (typeof value === 'string') {
      const info = binaryOf(value);
      if (!info) return value;
      const { bytes, ...rest } = info;
      artifacts.push({
        ...origin,
        path: path.join('.'),
        ...rest,
        bytes: bytes.length,
        base64: bytes.toString('base64'),
      });
      return describeBinary(info, firstArtifactNo + artifacts.length - 1);
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, String(i)]));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return value;
  };
  return { data: walk(output, []), artifacts };
}

/** Cuts `text` to at most `maxBytes` of UTF-8 (never inside a character) and says so. */
export function truncateBytes(text: string, maxBytes: number): string {
  const total = Buffer.byteLength(text);
  if (total <= maxBytes) return text;
  let end = Math.min(text.length, maxBytes);
  while (end > 0 && Buffer.byteLength(text.slice(0, end)) > maxBytes) end--;
  // Do not split a surrogate pair.
  if (end > 0 && /[\uD800-\uDBFF]/.test(text[end - 1]!)) end--;
  return `${text.slice(0, end)}\n…[truncated by the agent: the result has ${total} bytes, the first ${maxBytes} are shown]`;
}

/** The content of the tool message: the output as JSON (a string as is), errors as `{"error": …}`. */
export function toolContent(result: TaskResult, data: unknown, maxBytes: number): string {
  const body =
    result.status === 'ok'
      ? typeof data === 'string'
        ? data
        : JSON.stringify(data ?? null)
      : JSON.stringify({ error: errorText(data) });
  return truncateBytes(body, maxBytes);
}

/** An error output's message when it has one, else the output itself. */
function errorText(output: unknown): unknown {
  if (
    output !== null &&
    typeof output === 'object' &&
    typeof (output as { message?: unknown }).message === 'string'
  ) {
    return (output as { message: string }).message;
  }
  return output ?? 'failed';
}
