// Turns a zod failure into one line that names the field and never echoes the offending value
// (values may be secrets). Used at every boundary: env, config, wire, frontmatter, CLI flags.
import type { z } from 'zod';

export interface FieldProblem {
  /** Dotted path of the first failing field, or '' for the whole value. */
  field: string;
  message: string;
}

export function firstProblem(error: z.ZodError): FieldProblem {
  const issue = error.issues[0];
  if (!issue) return { field: '', message: 'invalid value' };
  const field = issue.path.map((p) => (typeof p === 'symbol' ? p.toString() : String(p))).join('.');
  // zod's own messages for type/shape errors do not include input values; custom ones are ours.
  return { field, message: issue.message };
}

/** "field: message" on one line, with `label` standing in for an empty path. */
export function formatProblem(error: z.ZodError, label = 'value'): string {
  const { field, message } = firstProblem(error);
  return `${field || label}: ${message}`.replace(/\s+/g, ' ');
}
