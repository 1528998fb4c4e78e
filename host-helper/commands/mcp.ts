// `clawdie-host mcp --hive URL --token-file F [--ca-file F] [--pin P] [--private-network]` (issue
// 17): the stdio bridge to the hive's MCP door (mcp-bridge/bridge.ts) for MCP clients that only
// launch local servers. The tenant token comes from a file owned by the invoking user with mode 0600
// (secret-file.ts), never from argv or the environment. The hive is trusted by the rules every
// program here follows (src/hive/tls): https anywhere, plain http only on loopback or with
// --private-network; a CA file replacing the runtime's store; pins of the hive's public key. Stdout is the MCP channel (nothing else is written there); logs are JSON lines on
// stderr. Runs until the client closes stdin or a signal arrives. Exit 0 then; 1 when the hive
// cannot be used at start (one line on stderr saying why), 2 for usage errors.
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { StdioServerTransport, serveStdio } from '@modelcontextprotocol/server/stdio';
import * as z from 'zod';
import { HivePins, transportProblem } from '../../src/hive/tls/policy.ts';
import { createLogger } from '../../src/log.ts';
import { formatProblem } from '../../src/protocol/index.ts';
import type { Command } from '../command.ts';
import { hiveTrustOf } from '../config/hive-trust.ts';
import { readTokenFile } from '../config/secret-file.ts';
import { EXIT, HostError, usageError } from '../exit-codes.ts';
import { bridgeServer, connectUpstream, upstreamProblem } from '../mcp-bridge/bridge.ts';

const USAGE =
  'usage: clawdie-host mcp --hive URL --token-file F [--ca-file F] [--pin sha256/…] [--private-network]';

const Flags = z.object({
  hive: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .refine((u) => !new URL(u).username && !new URL(u).password, 'must not carry credentials'),
  'token-file': z.string({ error: 'is required' }).min(1),
  'ca-file': z.string().min(1).optional(),
  pin: HivePins.optional(),
  'private-network': z.boolean().optional(),
});

/** The hive's URL rule (src/hive/tls) in the bridge's own flag names. */
const FLAG_NAMES = { url: '--hive', pins: '--pin', privateNetwork: '--private-network' };

function parseFlags(argv: string[]): z.infer<typeof Flags> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        hive: { type: 'string' },
        'token-file': { type: 'string' },
        'ca-file': { type: 'string' },
        pin: { type: 'string' },
        'private-network': { type: 'boolean' },
      },
    }));
  } catch (err) {
    // parseArgs messages quote what was typed (a token pasted by mistake?): name only the kind.
    throw usageError(`bad arguments (${(err as { code?: string }).code ?? 'error'}); ${USAGE}`, err);
  }
  const r = Flags.safeParse(values);
  if (!r.success) throw usageError(`--${formatProblem(r.error, 'flags')}; ${USAGE}`);
  const f = r.data;
  const p = transportProblem(
    { url: f.hive, pins: f.pin, privateNetwork: f['private-network'] === true },
    FLAG_NAMES,
  );
  if (p) throw usageError(`${p.field} ${p.message}; ${USAGE}`);
  return f;
}

/** stdin's end (the client went away) closes this transport: resolves `ended` then. */
class EndingStdio extends StdioServerTransport {
  readonly ended: Promise<void>;
  #end!: () => void;

  constructor() {
    super();
    this.ended = new Promise((resolve) => {
      this.#end = resolve;
    });
  }

  override async close(): Promise<void> {
    await super.close();
    this.#end();
  }
}

export const run: Command = async (argv, io) => {
  const flags = parseFlags(argv);
  const token = readTokenFile(flags['token-file'], 'token file');
  const trust = hiveTrustOf({ caFile: flags['ca-file'], pin: flags.pin });
  const log = createLogger({ name: 'mcp-bridge', destination: io.stderr });
  const hiveUrl = new URL(flags.hive);
  let upstream: Awaited<ReturnType<typeof connectUpstream>>;
  try {
    upstream = await connectUpstream({ hiveUrl, token, log, trust });
  } catch (err) {
    throw new HostError(`${upstreamProblem(err)} (${hiveUrl.origin})`, EXIT.failure, { cause: err });
  }
  const wire = new EndingStdio();
  const handle = serveStdio(() => bridgeServer(upstream, log), {
    transport: wire,
    onerror: (err) => log.debug({ err: err.message }, 'stdio message refused'),
  });
  log.info({ hive: hiveUrl.origin }, 'bridging stdio to the hive MCP door');
  const stopped = io.signal.aborted ? Promise.resolve() : once(io.signal, 'abort').then(() => undefined);
  await Promise.race([wire.ended, stopped]);
  await handle.close();
  await upstream.close();
  log.info('bridge closed');
  return EXIT.ok;
};
