// `clawdie-host ui`: prints a one-time link to the hive's live view (/ui). The link carries a code
// that works once, within a minute, in its fragment (browsers never send a fragment to a server, so
// it lands in no access log); the page trades it for a read-only session. The admin token itself
// stays in this process and its Authorization header.
import type { Command } from '../command.ts';
import { EXIT } from '../exit-codes.ts';
import { parseFlags, withContext } from './context.ts';

export const run: Command = async (argv, io) => {
  const parsed = parseFlags(argv, {}, 0);
  return withContext(parsed, io, async (ctx) => {
    const { code, expiresInSeconds } = await ctx.hive.uiCode();
    const url = `${ctx.config.hive.url.replace(/\/+$/, '')}/ui#code=${code}`;
    ctx.print({ url, expiresInSeconds }, [`open within ${expiresInSeconds} s (the link works once): ${url}`]);
    return EXIT.ok;
  });
};
