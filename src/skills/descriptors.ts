// What the agent tells the hive about each capability it registers (DESIGN §5 catalog): the serving
// skill's SKILL.md description and its input schema, and the built-in `echo`'s own. The hive's
// bounds apply here first, so a registration never fails on them: a description is cut to the
// protocol's length, and when all of them together would be too large the biggest input schemas
// are left out (the capability stays listed and described). Pure: routes in, descriptors out.
import {
  type CapabilityDescriptor,
  type InputSchema,
  jsonBytes,
  MAX_DESCRIPTION_CHARS,
  MAX_DESCRIPTORS_BYTES,
} from '../protocol/index.ts';
import { ECHO_CAPABILITY } from './task-runner.ts';

/** `echo` (DESIGN §3) as the catalog shows it. */
export const ECHO_DESCRIPTOR: CapabilityDescriptor = {
  name: ECHO_CAPABILITY,
  description: 'Returns its input unchanged. Built into every agent, for health checks and probes.',
  inputSchema: { type: 'object', description: 'Any JSON object; it comes back as it was sent.' },
};

/** The part of a skill a descriptor is made of (LoadedSkill has it). */
export interface Describable {
  frontmatter: { description: string };
  inputSchema?: InputSchema;
}

/**
 * Descriptors for `capabilities` (as registered): `echo`'s own, and for every other one the skill
 * that serves it (`routes`); a capability without a route is sent as a name only.
 */
export function describeCapabilities(
  capabilities: readonly string[],
  routes: ReadonlyMap<string, Describable>,
): CapabilityDescriptor[] {
  const out: CapabilityDescriptor[] = [];
  for (const name of capabilities) {
    if (name === ECHO_CAPABILITY) {
      out.push(ECHO_DESCRIPTOR);
      continue;
    }
    const skill = routes.get(name);
    if (!skill) continue;
    const d: CapabilityDescriptor = {
      name,
      description: skill.frontmatter.description.trim().slice(0, MAX_DESCRIPTION_CHARS),
    };
    if (skill.inputSchema) d.inputSchema = skill.inputSchema;
    out.push(d);
  }
  return fitDescriptors(out);
}

/** Leaves out the biggest input schemas until the descriptors fit the registration's bound. */
export function fitDescriptors(descriptors: CapabilityDescriptor[]): CapabilityDescriptor[] {
  const out = descriptors.map((d) => ({ ...d }));
  const bySize = out
    .filter((d) => d.inputSchema !== undefined)
    .sort((a, b) => jsonBytes(b.inputSchema) - jsonBytes(a.inputSchema));
  for (const d of bySize) {
    if (jsonBytes(out) <= MAX_DESCRIPTORS_BYTES) break;
    delete d.inputSchema;
  }
  return out;
}
