// The environment of a skill script (DESIGN §7): only the variables the skill declares, taken from
// the `.env` — never the whole `.env`, never the agent's own process.env — plus a fixed PATH so a
// shell script can find standard tools, and the dynamic loader's path of the agent's own runtime
// (DESIGN §11: on FreeBSD node runs from the body with LD_LIBRARY_PATH on its package libraries; a
// script started with that same node needs them too). Pure.

/** Fixed, not inherited: the agent's PATH could point into writable places. */
export const SCRIPT_PATH = '/usr/local/bin:/usr/bin:/bin';

/** Set by the service manager for node itself (rc.d), not by the tenant: passed on as they are. */
export const LOADER_VARS = ['LD_LIBRARY_PATH', 'LD_LIBRARY_PATH_RPATH'] as const;

export function scriptEnv(
  declared: readonly string[],
  dotenv: Readonly<Record<string, string>>,
  runtime: Readonly<Record<string, string | undefined>> = {},
): Record<string, string> {
  const env: Record<string, string> = { PATH: SCRIPT_PATH };
  for (const name of LOADER_VARS) {
    const value = runtime[name];
    if (value !== undefined) env[name] = value;
  }
  for (const name of declared) {
    const value = dotenv[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** How to start `file` by its extension: node for JavaScript/TypeScript, sh for shell, else directly. */
export function interpreterFor(file: string, nodePath: string): { command: string; args: string[] } {
  if (/\.(?:m?js|cjs|m?ts)$/.test(file)) return { command: nodePath, args: [file] };
  if (file.endsWith('.sh')) return { command: '/bin/sh', args: [file] };
  return { command: file, args: [] };
}
