// The agent entry point turns zod's generated code off before any schema exists (zod-jitless.ts).

import { expect, it } from 'vitest';
import * as z from 'zod';

it('importing the agent entry point sets zod jitless', async () => {
  await import('../cli.ts');
  expect(z.config().jitless).toBe(true);
  // A schema built now parses (and refuses) without generated code.
  const s = z.object({ a: z.string() });
  expect(s.parse({ a: 'x' })).toEqual({ a: 'x' });
  expect(s.safeParse({ a: 1 }).success).toBe(false);
});
