// Reads bastille_jailsdir from bastille.conf (a sh-style file: key=value or key="value", "##"
// comments, ${key} references to earlier keys). Pure parser plus a tiny reader; anything that is
// not a plain assignment is ignored, and an unresolvable reference is an error, never a guess.
import fs from 'node:fs';
import path from 'node:path';
import { EXIT, HostError } from '../exit-codes.ts';

export const DEFAULT_BASTILLE_CONF = '/usr/local/etc/bastille/bastille.conf';
const DEFAULT_PREFIX = '/usr/local/bastille';

function expand(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([a-z_][a-z0-9_]*)\}|\$([a-z_][a-z0-9_]*)/g, (_m, a?: string, b?: string) => {
    const key = (a ?? b) as string;
    const v = vars[key];
    if (v === undefined) throw new HostError(`bastille.conf: ${key} is referenced but not set`, EXIT.failure);
    return v;
  });
}

/** Pure: the assignments of a bastille.conf, references expanded in file order. */
export function parseBastilleConf(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const m = /^\s*([a-z_][a-z0-9_]*)=("([^"]*)"|'([^']*)'|([^\s#"']*))\s*(#.*)?$/.exec(raw);
    if (!m) continue;
    const key = m[1] as string;
    const single = m[4];
    vars[key] = single !== undefined ? single : expand(m[3] ?? m[5] ?? '', vars);
  }
  return vars;
}

/** Pure: bastille_jailsdir with Bastille's own defaults when unset. */
export function jailsDirFrom(vars: Record<string, string>): string {
  const dir = vars.bastille_jailsdir ?? `${vars.bastille_prefix ?? DEFAULT_PREFIX}/jails`;
  if (!path.isAbsolute(dir))
    throw new HostError('bastille.conf: bastille_jailsdir is not absolute', EXIT.failure);
  return path.normalize(dir);
}

export function bastilleJailsDir(confFile: string = DEFAULT_BASTILLE_CONF): string {
  let text: string;
  try {
    text = fs.readFileSync(confFile, 'utf8');
  } catch (err) {
    throw new HostError(`cannot read ${confFile}`, EXIT.failure, { cause: err });
  }
  return jailsDirFrom(parseBastilleConf(text));
}
