// The environment of a skill script (DESIGN §7): only the variables the skill declares, taken from
// the `.env` — never the whole `.env`, never the agent's own process.env — plus a fixed PATH so a
// shell script can find standard tools. Pure.

/** Fixed, not inherited: the agent's PATH could point into writable places. */
export const SCRIPT_PATH = '/usr/local/bin:/usr/bin:/bin';

export function scriptEnv(
  declared: readonly string[],
  dotenv: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = { PATH: SCRIPT_PATH };
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
