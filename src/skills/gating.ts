// Decides which loaded skills are active on this agent (DESIGN §7): a skill is active when it fits
// this OS and every variable it declares is present in the `.env`. Pure: skills + facts in, the
// active skills, the capabilities to register and the reason each inactive skill was left out.
import { compareByName } from './by-name.ts';
import { ECHO_CAPABILITY } from './task-runner.ts';

export interface GateFacts {
  /** `process.platform` of this agent. */
  os: string;
  /** The validated `.env` (only presence of keys is looked at). */
  env: Readonly<Record<string, string>>;
}

/** The part of a skill gating looks at (LoadedSkill has it). */
export interface Gateable {
  name: string;
  extensions: { capabilities: string[]; env: string[]; os: string[] };
}

export interface Gated<S extends Gateable> {
  active: S[];
  inactive: { skill: S; reason: string }[];
  /** Sorted, unique, always including the built-in `echo`. */
  capabilities: string[];
  /** capability → the skill that serves it (first active skill by name). */
  routes: Map<string, S>;
}

/** Why a skill does not fit, or null when it does. Names variables, never their values. */
export function gateReason(skill: Gateable, facts: GateFacts): string | null {
  const { os, env } = skill.extensions;
  if (os.length > 0 && !os.includes(facts.os)) return `needs os ${os.join(' or ')}, this is ${facts.os}`;
  const missing = env.filter((name) => !facts.env[name]);
  if (missing.length > 0) return `needs ${missing.join(', ')} in the .env`;
  return null;
}

export function gateSkills<S extends Gateable>(skills: readonly S[], facts: GateFacts): Gated<S> {
  const active: S[] = [];
  const inactive: { skill: S; reason: string }[] = [];
  const routes = new Map<string, S>();
  for (const skill of [...skills].sort(compareByName)) {
    const reason = gateReason(skill, facts);
    if (reason !== null) {
      inactive.push({ skill, reason });
      continue;
    }
    active.push(skill);
    for (const capability of skill.extensions.capabilities) {
      // `echo` stays built in: a skill cannot hijack the health-check capability.
      if (capability !== ECHO_CAPABILITY && !routes.has(capability)) routes.set(capability, skill);
    }
  }
  const capabilities = [ECHO_CAPABILITY, ...routes.keys()].sort();
  return { active, inactive, capabilities, routes };
}
