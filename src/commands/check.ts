// `clawdie-agent check [--root DIR]`: validates paths, soul layers, the env file and the task
// runner (skills) without starting the agent. One line per check; exit 0 when all pass, 1
// otherwise. No values shown.
import { describeError } from '../errors.ts';
import { currentPrincipal, resolveIdentity } from '../identity/resolve.ts';
import { createLogger } from '../log.ts';
import { capabilitiesOf } from '../machine/actors/register.ts';
import { checkEnvFile } from '../secrets/accept.ts';
import type { AgentEnv } from '../secrets/env-schema.ts';
import { type Command, commandArgs } from './command.ts';

export const run: Command = async (argv, io) => {
  const { paths } = commandArgs(argv, io.env);
  const log = createLogger({ name: 'clawdie-agent', level: 'warn' });
  const out = io.stdout;
  let failed = false;
  const say = (ok: boolean, what: string, line: string): void => {
    if (!ok) failed = true;
    out.write(`${ok ? 'ok  ' : 'FAIL'} ${what}: ${line}\n`);
  };
  const principal = currentPrincipal();

  let identity: Awaited<ReturnType<typeof resolveIdentity>> | undefined;
  try {
    identity = await resolveIdentity({ layers: paths.layers, principal, root: paths.root });
    const files = identity.files.map((f) => `${f.name}<-${f.layer}`).join(' ') || 'empty soul';
    say(true, 'soul', `${files}; hash ${identity.hash}`);
    for (const w of identity.warnings) out.write(`warn soul: ${w}\n`);
  } catch (err) {
    say(false, 'soul', describeError(err));
  }

  const verdict = await checkEnvFile(paths.envFile, principal.uid);
  let env: AgentEnv | undefined;
  if (verdict.status === 'valid') {
    env = verdict.env;
    say(true, 'env', `${paths.envFile} is acceptable (tenant ${verdict.env.CLAWDIE_TENANT})`);
  } else {
    say(false, 'env', `${paths.envFile} ${verdict.reason}`);
  }

  if (identity) {
    try {
      const runner = await io.createRunner({ paths, log, identity, env: () => env });
      say(true, 'skills', `capabilities ${capabilitiesOf(runner).join(', ')}`);
    } catch (err) {
      say(false, 'skills', describeError(err));
    }
  }
  return failed ? 1 : 0;
};
