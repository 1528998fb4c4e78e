// `clawdie-host demo --serve`: only the reference hive coordinator, from the demo's state dir, with
// its 0600 admin token file; prints the URL and how to use it, and serves until Ctrl-C (exit 0).
// Output: the instructions on stdout; the coordinator's own logs go to <dir>/hive/hive.log.
import { once } from 'node:events';
import { join } from 'node:path';
import type { CommandIO } from '../command.ts';
import { EXIT, HostError } from '../exit-codes.ts';
import { launchHive } from './hive.ts';

function instructions(url: string, dir: string): string {
  const tok = join(dir, 'hive', 'admin.token');
  const hdr = join(dir, 'hive', 'admin.header');
  const db = join(dir, 'hive', 'hive.db');
  return `clawdie demo: the reference hive coordinator is running

  URL          ${url}
  admin token  ${tok}  (mode 0600; never put it on a command line)
  database     ${db}
  logs         ${join(dir, 'hive', 'hive.log')}

Try it from another terminal (curl reads the Authorization header from a 0600 file, so the
token never appears in a process list):
  curl -s -H @${hdr} ${url}/v1/admin/agents
  curl -s -X POST -H @${hdr} -d '{}' ${url}/v1/admin/tenants/acme/token          # acme's agent token
  curl -s -X POST -H @${hdr} -d '{"shared":true}' ${url}/v1/admin/tenants/lane/token   # a shared lane
  curl -s -X POST -H @${hdr} -d '{"tenant":"acme","capability":"echo","input":"hi"}' ${url}/v1/tasks

The same coordinator, run by hand:
  npx clawdie-host hive serve --listen 127.0.0.1:0 --db ${db} --admin-token-file ${tok}
Protocol conformance of this (or any) coordinator:
  npm run conformance -- --url ${url} --admin-token-file ${tok}

Press Ctrl-C to stop.
`;
}

export async function serveHive(
  io: CommandIO,
  state: { dir: string; shown: string; tokenFile: string; listen: string },
): Promise<number> {
  const hive = await launchHive({
    dir: state.dir,
    listen: state.listen,
    tokenFile: state.tokenFile,
    env: io.env,
    shownDir: state.shown,
  });
  io.stdout.write(instructions(hive.url, state.shown));
  const stopped = await Promise.race([
    once(io.signal, 'abort').then(() => false),
    hive.exited.then(() => true),
  ]);
  if (stopped) {
    const [code] = await hive.exited;
    throw new HostError(`the hive stopped unexpectedly (exit ${String(code)})`, EXIT.failure);
  }
  await hive.stop();
  io.stdout.write('clawdie demo: stopped\n');
  return EXIT.ok;
}
