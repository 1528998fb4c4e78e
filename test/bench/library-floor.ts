// The floor under the agent's boot and idle targets (issue 4): a program that loads the libraries
// the agent needs before it is registered — zod, dotenv, xstate, pino (with the agent's logger
// settings), undici's Pool and request, yaml, node:crypto — through the same bundle options, uses
// each once the way boot must (validate an env, run one machine, log a line, one HTTP round trip to
// the hive, parse a frontmatter, hash), logs `library floor ready`, and then idles with its pool
// open. No agent logic at all: whatever this costs over bare node, no agent built on these
// libraries can start or idle below it. The hive URL comes from CLAWDIE_HIVE_URL.
import { createHash } from 'node:crypto';
import { parse as parseDotenv } from 'dotenv';
import request from 'undici/lib/api/api-request.js';
import PoolClass from 'undici/lib/dispatcher/pool.js';
import { createActor, fromPromise, setup } from 'xstate';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { createLogger } from '../../src/log.ts';

const Env = z.object({
  CLAWDIE_TENANT: z.string().regex(/^[a-z0-9-]{1,63}$/),
  CLAWDIE_HIVE_URL: z.url(),
});

export async function runAsProcess(): Promise<void> {
  const log = createLogger({ name: 'library-floor' });
  const env = Env.parse({ ...parseDotenv('CLAWDIE_TENANT=floor\n'), ...process.env });
  const skill = parseYaml('name: echo\ndescription: echoes\nmetadata:\n  capabilities: [echo]\n');
  const hash = createHash('sha256').update(JSON.stringify(skill)).digest('hex');
  const pool = new PoolClass(new URL(env.CLAWDIE_HIVE_URL).origin, { connections: 2 });
  const machine = setup({
    actors: {
      call: fromPromise(async () => {
        const res = await request.call(pool, { method: 'GET', path: '/v1/tasks/floor' });
        return { status: res.statusCode, body: await res.body.text() };
      }),
    },
  }).createMachine({
    initial: 'calling',
    states: { calling: { invoke: { src: 'call', onDone: 'done' } }, done: { type: 'final' } },
  });
  const actor = createActor(machine).start();
  await new Promise<void>((resolve) => actor.subscribe({ complete: resolve }));
  log.info({ hash: hash.slice(0, 12) }, 'library floor ready');
  process.once('SIGTERM', () => {
    void pool.close().then(() => process.exit(0));
  });
  setInterval(() => undefined, 1 << 30);
}
