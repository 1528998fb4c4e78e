// Finds skills across the soul layers under a root (DESIGN §4, §7): image → tenant → agent, a higher
// layer shadowing a lower one by folder name. I/O: reads directories, SKILL.md files and the input
// schema a skill names (metadata.input-schema, beside SKILL.md; a broken one makes the skill
// invalid, the problem naming the schema file); returns the winning skills and one problem per
// invalid folder (skipped, never fatal: an empty set is valid). The parsers (YAML, the frontmatter
// and input-schema schemas: ~7 ms of the agent's boot to load and build) are imported at the first
// SKILL.md found, so a root without skills never builds them. Reads are synchronous (small files,
// read once at boot: cheaper than a thread-pool round trip each).
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { InputSchema } from '../protocol/index.ts';
import { compareByName } from './by-name.ts';
import type { SkillDefinition } from './frontmatter.ts';

export const SKILL_LAYERS = [
  { layer: 'image', dir: 'usr/local/share/clawdie/soul/skills' },
  { layer: 'tenant', dir: 'usr/local/etc/clawdie/soul/skills' },
  { layer: 'agent', dir: 'var/db/clawdie/soul/skills' },
] as const;
export type SkillLayer = (typeof SKILL_LAYERS)[number]['layer'];

/** A valid skill and where it came from. */
export interface LoadedSkill extends SkillDefinition {
  name: string;
  layer: SkillLayer;
  /** Absolute path of the skill folder. */
  dir: string;
  /** Lower-layer copies this one hides. */
  shadows: SkillLayer[];
  /** The checked JSON Schema of its task input (metadata.input-schema), when it names one. */
  inputSchema?: InputSchema;
}

/** A schema file is refused unread past this size (pretty-printed; the schema itself has its own bound). */
const MAX_SCHEMA_FILE_BYTES = 64 * 1024;

export interface DiscoveryProblem {
  layer: SkillLayer;
  /** Absolute path of the offending SKILL.md (or folder). */
  path: string;
  field: string;
  message: string;
}

export interface Discovery {
  skills: LoadedSkill[];
  problems: DiscoveryProblem[];
}

/** One line for logs and `skills --check`: `<path>: <field>: <message>`. */
export const formatDiscoveryProblem = (p: DiscoveryProblem): string => `${p.path}: ${p.field}: ${p.message}`;

function listFolders(dir: string): string[] {
  try {
    const entries = readdirSync(dir, { withFileTypes: true });
    // Links are not followed: a skill folder must be a real directory of the layer.
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === 'ENOENT' ||
      (err as NodeJS.ErrnoException).code === 'ENOTDIR'
    ) {
      return [];
    }
    throw err;
  }
}

type FolderResult = { skill: LoadedSkill } | { problem: DiscoveryProblem } | null;

async function loadFolder(layer: SkillLayer, layerDir: string, folder: string): Promise<FolderResult> {
  const dir = path.join(layerDir, folder);
  const file = path.join(dir, 'SKILL.md');
  const problem = (field: string, message: string): FolderResult => ({
    problem: { layer, path: file, field, message },
  });
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(file);
  } catch {
    return null; // a folder without SKILL.md is not a skill (e.g. shared assets)
  }
  if (!stat.isFile()) return problem('SKILL.md', 'must be a regular file (links are not followed)');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return problem('SKILL.md', `unreadable (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const { parseSkillMd } = await import('./frontmatter.ts');
  const parsed = parseSkillMd(text, folder);
  if (!parsed.ok) return problem(parsed.problem.field, parsed.problem.message);
  const skill: LoadedSkill = { ...parsed.skill, name: folder, layer, dir, shadows: [] };
  const schemaFile = parsed.skill.extensions['input-schema'];
  if (schemaFile === undefined) return { skill };
  const schema = await loadInputSchema(path.join(dir, schemaFile));
  if ('field' in schema) return { problem: { layer, ...schema } };
  return { skill: { ...skill, inputSchema: schema.schema } };
}

/** Reads and checks a skill's input schema file; a problem names the file and the place in it. */
async function loadInputSchema(
  file: string,
): Promise<{ schema: InputSchema } | { path: string; field: string; message: string }> {
  const problem = (field: string, message: string) => ({ path: file, field, message });
  let text: string;
  try {
    const stat = lstatSync(file);
    if (!stat.isFile())
      return problem('metadata.input-schema', 'must be a regular file (links are not followed)');
    if (stat.size > MAX_SCHEMA_FILE_BYTES) {
      return problem('metadata.input-schema', `is larger than ${MAX_SCHEMA_FILE_BYTES} bytes`);
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return problem(
      'metadata.input-schema',
      code === 'ENOENT' ? 'names a file that does not exist' : `unreadable (${code ?? 'error'})`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return problem('metadata.input-schema', 'is not valid JSON');
  }
  const { checkInputSchema } = await import('./input-schema.ts');
  const checked = checkInputSchema(doc);
  return checked.ok ? { schema: checked.schema } : problem(checked.field, checked.message);
}

/** Discovers skills under `root` (default layers); later layers win by name. */
export async function discoverSkills(
  root: string,
  layers: readonly { layer: SkillLayer; dir: string }[] = SKILL_LAYERS,
): Promise<Discovery> {
  const byName = new Map<string, LoadedSkill>();
  const problems: DiscoveryProblem[] = [];
  for (const { layer, dir } of layers) {
    const layerDir = path.resolve(root, dir);
    for (const folder of listFolders(layerDir)) {
      const result = await loadFolder(layer, layerDir, folder);
      if (result === null) continue;
      if ('problem' in result) {
        // Fail closed: a broken override hides the lower copy instead of silently reviving it.
        const hidden = byName.get(folder);
        if (hidden) byName.delete(folder);
        const note = hidden ? ` (hides the ${hidden.layer} copy)` : '';
        problems.push({ ...result.problem, message: `${result.problem.message}${note}` });
        continue;
      }
      const lower = byName.get(folder);
      const shadows = lower ? [...lower.shadows, lower.layer] : [];
      byName.set(folder, { ...result.skill, shadows });
    }
  }
  const skills = [...byName.values()].sort(compareByName);
  return { skills, problems };
}
