// zod without generated code, for the agent process: imported first by src/cli.ts so it runs before
// any schema is built (zod reads the setting when a schema is created).
// Why: zod v4 compiles a fast path for each object schema with `new Function` on its first parse,
// and probes `navigator` to decide whether it may (which loads node's navigator module). The agent
// parses a few small messages a minute, so the compiled paths buy nothing measurable, while at boot
// they cost: measured with the bundle, start → registered −4 % CPU and −8 % wall time without them
// (test/bench/agent.bench.ts, 20 interleaved rounds). No code generated from strings is also one
// less thing a hostile input could ever reach. The hive (host-helper) keeps zod's compiled paths.
import * as z from 'zod';

z.config({ jitless: true });
