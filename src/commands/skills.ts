// `clawdie-agent skills [--check] [--json] [--root DIR]` (DESIGN §7): lists the skills found under
// the root, which are active on this OS and `.env` (by key presence only; no value is ever read
// out), the capabilities they register, and every problem. Exit 1 with --check when there are
// problems, 2 on a usage error.
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { parse as parseDotenv } from 'dotenv';
import { describeError } from '../errors.ts';
import { discoverSkills, formatDiscoveryProblem } from '../skills/discover.ts';
import { gateSkills } from '../skills/gating.ts';

export interface SkillsIO {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

const USAGE = 'usage: clawdie-agent skills [--check] [--json] [--root DIR]\n';

/** The `.env` keys (values stay unread by the output) or null when the file is absent/unreadable. */
async function envKeys(file: string): Promise<Record<string, string> | null> {
  try {
    const stat = await lstat(file);
    if (!stat.isFile()) return null;
    const parsed = parseDotenv(await readFile(file));
    return Object.fromEntries(Object.keys(parsed).map((k) => [k, parsed[k] ? 'set' : '']));
  } catch {
    return null;
  }
}

export async function skillsCommand(argv: string[], io: SkillsIO): Promise<number> {
  let flags: { check?: boolean; json?: boolean; root?: string };
  try {
    flags = parseArgs({
      args: argv,
      options: { check: { type: 'boolean' }, json: { type: 'boolean' }, root: { type: 'string' } },
      strict: true,
    }).values;
  } catch (err) {
    io.stderr.write(`clawdie-agent skills: ${describeError(err)}\n${USAGE}`);
    return 2;
  }
  const root = path.resolve(flags.root ?? (io.env.CLAWDIE_ROOT || '/'));
  const user = io.env.CLAWDIE_USER || 'clawdie';
  const envFile = path.join(root, 'home', path.basename(user), '.env');
  const env = await envKeys(envFile);
  const os = process.platform;
  const discovery = await discoverSkills(root);
  const gated = gateSkills(discovery.skills, { os, env: env ?? {} });
  const reasons = new Map(gated.inactive.map(({ skill, reason }) => [skill.name, reason]));

  const skills = discovery.skills.map((s) => ({
    name: s.name,
    layer: s.layer,
    dir: s.dir,
    runs: s.extensions.runs,
    capabilities: s.extensions.capabilities,
    env: s.extensions.env,
    os: s.extensions.os,
    borrows: s.extensions.borrows,
    shadows: s.shadows,
    active: !reasons.has(s.name),
    ...(reasons.has(s.name) ? { reason: reasons.get(s.name) } : {}),
  }));
  const problems = discovery.problems.map((p) => ({ ...p, line: formatDiscoveryProblem(p) }));

  if (flags.json) {
    const report = { root, os, envChecked: env !== null, skills, problems, capabilities: gated.capabilities };
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const out: string[] = [`skills under ${root} (os ${os})`];
    if (env === null) out.push(`  note: ${envFile} not readable; skills needing env are shown inactive`);
    for (const s of skills) {
      const state = s.active ? 'active' : `inactive: ${s.reason}`;
      const shadow = s.shadows.length > 0 ? ` (shadows ${s.shadows.join(', ')})` : '';
      out.push(
        `  ${s.name.padEnd(20)} ${s.runs.padEnd(6)} ${s.layer}${shadow}  [${s.capabilities.join(', ')}]  ${state}`,
      );
    }
    if (skills.length === 0) out.push('  (none)');
    if (problems.length > 0) {
      out.push('problems:');
      for (const p of problems) out.push(`  ${p.line}`);
    }
    out.push(`capabilities: ${gated.capabilities.join(', ')}`);
    io.stdout.write(`${out.join('\n')}\n`);
  }
  return flags.check && problems.length > 0 ? 1 : 0;
}

/** The shape src/cli.ts dispatches to. */
export const run = (argv: string[], io?: Partial<SkillsIO>): Promise<number> =>
  skillsCommand(argv, {
    stdout: io?.stdout ?? process.stdout,
    stderr: io?.stderr ?? process.stderr,
    env: io?.env ?? process.env,
  });
