// `clawdie-agent skills [--check] [--json] [--root DIR]` (DESIGN §7): lists the skills found under
// the root, which are active on this OS and `.env` (by key presence only; no value is ever read
// out), the capabilities they register, each one's time budget and input schema file, and every problem. Exit 1 with --check when there are
// problems, 2 on a usage error.
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { discoverSkills, formatDiscoveryProblem } from '../skills/discover.ts';
import { gateSkills } from '../skills/gating.ts';
import { skillTimeoutMs } from '../skills/time-budget.ts';
import { type Command, commandArgs } from './command.ts';

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

export const run: Command = async (argv, io) => {
  const { paths, check, json } = commandArgs(argv, io.env, 'check', 'json');
  const { root, envFile } = paths;
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
    timeoutSeconds: skillTimeoutMs(s.extensions) / 1000,
    ...(s.extensions['input-schema'] ? { inputSchema: path.join(s.dir, s.extensions['input-schema']) } : {}),
    shadows: s.shadows,
    active: !reasons.has(s.name),
    ...(reasons.has(s.name) ? { reason: reasons.get(s.name) } : {}),
  }));
  const problems = discovery.problems.map((p) => ({ ...p, line: formatDiscoveryProblem(p) }));

  if (json) {
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
  return check && problems.length > 0 ? 1 : 0;
};
