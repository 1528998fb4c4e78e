// OpenRouter's structured reasoning (`reasoning_details`), assembled from the stream and kept to be
// sent back. OpenRouter's "preserving reasoning blocks": a turn that called tools must carry its
// `reasoning_details` back unmodified in the next request, or the model behind it (Anthropic's
// thinking blocks with their signatures, Gemini's thought signatures) loses or refuses its chain of
// thought. Streamed, a detail arrives in fragments under one `index`: text, summary and data pieces
// are joined in order, other fields (type, id, format, signature) taken where they appear; unknown
// fields are kept. Pure: fragments in, whole details out. The content is never logged.
import * as z from 'zod';

/** One `reasoning_details[]` entry, or a streamed fragment of one (every field may be partial). */
export const ReasoningDetail = z.looseObject({
  type: z.string().nullish(),
  index: z.number().int().nonnegative().optional(),
  id: z.string().nullish(),
  format: z.string().nullish(),
  text: z.string().nullish(),
  summary: z.string().nullish(),
  data: z.string().nullish(),
  signature: z.string().nullish(),
});
export type ReasoningDetail = z.infer<typeof ReasoningDetail>;

/** The fields whose streamed pieces are joined; every other field is set where a fragment has it. */
const JOINED = ['text', 'summary', 'data'] as const;

export class ReasoningDetailsAssembler {
  readonly #details: Record<string, unknown>[] = [];
  readonly #byIndex = new Map<number, Record<string, unknown>>();

  push(fragment: ReasoningDetail): void {
    // No index: a provider that sends each detail whole (a non-streamed message, or one per chunk).
    const index = fragment.index;
    let detail = index === undefined ? undefined : this.#byIndex.get(index);
    if (!detail) {
      detail = {};
      this.#details.push(detail);
      if (index !== undefined) this.#byIndex.set(index, detail);
    }
    for (const [key, value] of Object.entries(fragment)) {
      if (value === null || value === undefined) continue;
      const joined = (JOINED as readonly string[]).includes(key);
      if (joined && typeof value === 'string' && typeof detail[key] === 'string') detail[key] += value;
      else detail[key] = value;
    }
  }

  /** The details so far, in the order they first appeared. */
  details(): Record<string, unknown>[] {
    return this.#details.map((d) => ({ ...d }));
  }
}
