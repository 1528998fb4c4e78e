// Where the agent finds things (DESIGN §4): every path hangs off one root (`--root` / CLAWDIE_ROOT,
// default `/`) so tests and the Linux lane can relocate a whole jail. Pure: inputs in, paths out.
import path from 'node:path';
import * as z from 'zod';
import { ClawdieError } from '../errors.ts';
import { formatProblem } from '../protocol/format-issue.ts';

const DEFAULT_USER = 'clawdie';

/** Soul layers from lowest to highest precedence (DESIGN §7): a higher layer wins per file. */
const LAYER_NAMES = ['image', 'tenant', 'agent'] as const;
export type LayerName = (typeof LAYER_NAMES)[number];

const LAYER_DIRS: Record<LayerName, string> = {
  image: 'usr/local/share/clawdie/soul',
  tenant: 'usr/local/etc/clawdie/soul',
  agent: 'var/db/clawdie/soul',
};

export interface SoulLayer {
  name: LayerName;
  dir: string;
  /** The image and tenant layers must not be writable by the agent's user. */
  readOnly: boolean;
}

export interface AgentPaths {
  root: string;
  user: string;
  envFile: string;
  envDir: string;
  stateDir: string;
  statusFile: string;
  /** The crash-loop breaker's record (machine/crash-loop.ts). */
  crashLoopFile: string;
  /** The random half of the agent id (see machine/actors/agent-id.ts). */
  agentKeyFile: string;
  layers: SoulLayer[];
}

/** The jail user is also a path component: keep it to a plain login name. */
const UserName = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a plain login name');

class ConfigError extends ClawdieError {}

export function resolvePaths(options: { root?: string; user?: string }): AgentPaths {
  const root = path.resolve(options.root || '/');
  const parsed = UserName.safeParse(options.user || DEFAULT_USER);
  if (!parsed.success) throw new ConfigError(formatProblem(parsed.error, 'CLAWDIE_USER'));
  const user = parsed.data;
  const at = (rel: string): string => path.join(root, rel);
  const stateDir = at('var/db/clawdie');
  return {
    root,
    user,
    envFile: at(`home/${user}/.env`),
    envDir: at(`home/${user}`),
    stateDir,
    statusFile: path.join(stateDir, 'status.json'),
    crashLoopFile: path.join(stateDir, 'crash-loop.json'),
    agentKeyFile: path.join(stateDir, 'agent-key'),
    layers: LAYER_NAMES.map((name) => ({ name, dir: at(LAYER_DIRS[name]), readOnly: name !== 'agent' })),
  };
}

/** `--root` beats CLAWDIE_ROOT beats `/`; CLAWDIE_USER names the jail user. */
export function pathsFromEnv(flagRoot: string | undefined, env: NodeJS.ProcessEnv): AgentPaths {
  return resolvePaths({ root: flagRoot ?? env.CLAWDIE_ROOT, user: env.CLAWDIE_USER });
}
