// Puts a rendered .env in place and proves it (DESIGN §6): skips the write when the file in place
// is already identical (content, 0600, owner, single link); writes THROUGH the jail when it runs
// (a fixed script as the jail user, content on stdin) and with the host-side safe writer when it
// is stopped; then verifies in place by a no-follow read: regular file, 0600, owned by the jail
// user, one link, same SHA-256. Anything else is an error and the caller does not mark `active`.
import { EXIT, HostError } from '../exit-codes.ts';
import type { JailBackend } from '../jails/backend.ts';
import { sha256 } from './render.ts';
import {
  type EnvLocation,
  type EnvState,
  inspectEnv,
  isInPlace,
  safeRemoveEnv,
  safeWriteEnv,
} from './safe-writer.ts';

/**
 * The fixed program run inside a running jail ($1 = the jail user's name, stdin = the content).
 * It runs as the jail user, so it can only do what that user can do inside the jail anyway.
 */
export const IN_JAIL_WRITE_SCRIPT = [
  'set -eu',
  'umask 077',
  'cd -P "/home/$1"',
  't=".env.clawdie-$$"',
  'rm -f -- "$t"',
  'set -C',
  'cat > "$t"',
  'set +C',
  'chmod 600 "$t"',
  'mv -f -- "$t" .env',
].join('\n');

export const IN_JAIL_REMOVE_SCRIPT = ['set -eu', 'rm -f -- "/home/$1/.env"'].join('\n');

export const inJailArgv = (script: string, user: string): string[] => [
  '/bin/sh',
  '-c',
  script,
  'clawdie-host',
  user,
];

export interface DeliverResult {
  changed: boolean;
  sha256: string;
  via: 'unchanged' | 'jail' | 'host';
}

function describeState(state: EnvState): string {
  if (state.kind === 'missing') return '.env is missing after the write';
  if (state.kind === 'not-regular') return `.env is not a regular file (${state.what}) after the write`;
  return '.env in place does not match (content, mode 0600, owner or link count)';
}

export async function deliverEnv(
  backend: JailBackend,
  jail: string,
  userName: string,
  content: string,
): Promise<DeliverResult> {
  const loc: EnvLocation = { jailsRoot: backend.jailsRoot(), jail, user: userName };
  const user = await backend.userIds(jail, userName);
  const digest = sha256(content);
  if (isInPlace(inspectEnv(loc), user, digest)) return { changed: false, sha256: digest, via: 'unchanged' };

  let via: DeliverResult['via'];
  if (await backend.isRunning(jail)) {
    await backend.execAsUser(jail, user, inJailArgv(IN_JAIL_WRITE_SCRIPT, userName), content);
    via = 'jail';
  } else {
    safeWriteEnv(loc, user, content);
    via = 'host';
  }
  const after = inspectEnv(loc);
  if (!isInPlace(after, user, digest))
    throw new HostError(`verification failed: ${describeState(after)}`, EXIT.failure);
  return { changed: true, sha256: digest, via };
}

export async function removeEnv(backend: JailBackend, jail: string, userName: string): Promise<void> {
  if (!(await backend.exists(jail))) return; // no jail, no .env
  const loc: EnvLocation = { jailsRoot: backend.jailsRoot(), jail, user: userName };
  if (await backend.isRunning(jail)) {
    const user = await backend.userIds(jail, userName);
    await backend.execAsUser(jail, user, inJailArgv(IN_JAIL_REMOVE_SCRIPT, userName), '');
  } else {
    safeRemoveEnv(loc);
  }
  const after = inspectEnv(loc);
  if (after.kind !== 'missing') throw new HostError('.env is still present after removal', EXIT.failure);
}
