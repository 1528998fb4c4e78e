// The jail user's uid/gid from the jail's own /etc/passwd, read no-follow (the jailed root can
// edit that file, so it is parsed strictly and the result is checked: uid 0, gid 0 and nobody
// are refused — writing a root-owned .env, or one owned by a shared account, is never right).

import { EXIT, HostError } from '../exit-codes.ts';
import { readRegularAt, withDir } from '../jailfs/dirfd.ts';

export interface JailUser {
  name: string;
  uid: number;
  gid: number;
}

const NOBODY_UIDS = new Set([65534, 4294967294, 32767]);
const ID_RE = /^(0|[1-9][0-9]{0,9})$/;

/** Pure: finds exactly one well-formed entry for `user`. Errors name the line, never its content. */
export function parsePasswdEntry(text: string, user: string): JailUser {
  let found: JailUser | undefined;
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    if (fields[0] !== user) continue;
    if (fields.length !== 7) throw new HostError(`jail passwd line ${i + 1}: expected 7 fields`, EXIT.policy);
    const [, , uidText = '', gidText = ''] = fields;
    if (!ID_RE.test(uidText) || !ID_RE.test(gidText)) {
      throw new HostError(`jail passwd line ${i + 1}: uid/gid are not plain numbers`, EXIT.policy);
    }
    if (found) throw new HostError(`jail passwd: user ${user} appears more than once`, EXIT.policy);
    found = { name: user, uid: Number(uidText), gid: Number(gidText) };
  }
  if (!found) throw new HostError(`jail passwd: no user ${user}`, EXIT.notFound);
  return checkJailUser(found);
}

/** Refuses root and nobody for a jail user (bastille and linux backends). */
export function checkJailUser(user: JailUser): JailUser {
  if (user.uid === 0 || user.gid === 0)
    throw new HostError(`jail user ${user.name} maps to root; refused`, EXIT.policy);
  if (user.name === 'nobody' || NOBODY_UIDS.has(user.uid) || NOBODY_UIDS.has(user.gid)) {
    throw new HostError(`jail user ${user.name} maps to nobody; refused`, EXIT.policy);
  }
  if (user.uid > 2 ** 31 - 2 || user.gid > 2 ** 31 - 2)
    throw new HostError('jail user id out of range', EXIT.policy);
  return user;
}

/** Reads <jailsRoot>/<jail>/root/etc/passwd through the no-follow walk and parses `user`. */
export function jailUserFromPasswd(jailsRoot: string, jail: string, user: string): JailUser {
  const text = withDir(jailsRoot, [jail, 'root', 'etc'], (dir) => readRegularAt(dir, 'passwd', 1 << 20));
  return parsePasswdEntry(text.toString('utf8'), user);
}
