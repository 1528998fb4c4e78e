// The one error shape every hive endpoint answers with (DESIGN §5), its codes, and the one reader
// of error answers that the agent's, the host's and the providers' HTTP clients share. Built at
// first use (z.lazy, see ./index.ts).
import * as z from 'zod';

export const ErrorCode = z.lazy(() =>
  z.enum([
    'bad_request',
    'unauthorized',
    'forbidden',
    'not_found',
    'method_not_allowed',
    'conflict',
    'request_timeout',
    'payload_too_large',
    'unsupported_media_type',
    'headers_too_large',
    'internal',
    'unavailable',
  ]),
);
export type ErrorCode = z.infer<typeof ErrorCode>;

const errorFields = () =>
  z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
  });
export const ErrorBody = z.lazy(() => z.object({ error: errorFields() }));
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * An error answer read leniently, so that one reader serves every HTTP client: the hive's shape
 * above, and the OpenAI-style bodies of LLM providers, whose `code` may be a number, null or
 * missing and whose `message` may be missing.
 */
const orAbsent = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined);
const ErrorAnswer = z.lazy(() =>
  z.object({
    error: errorFields().extend({
      code: orAbsent(z.union([z.string(), z.number().transform(String)])),
      message: orAbsent(z.string()),
      field: orAbsent(z.string()),
    }),
  }),
);
export type ErrorDetail = z.infer<typeof ErrorAnswer>['error'];

/** The `error` object of an answer's body, or undefined when the body is not an error answer. */
export function readErrorBody(text: string): ErrorDetail | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = ErrorAnswer.safeParse(json);
  return parsed.success ? parsed.data.error : undefined;
}

/** Request bodies larger than this are refused with 413. */
export const MAX_BODY_BYTES = 1024 * 1024;
