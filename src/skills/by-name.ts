// The order of skills everywhere they are listed: by name, in code-unit order. Skill names are
// a-z, 0-9 and '-' (validated in frontmatter.ts), for which that is their collation order too;
// localeCompare would load ICU's collator for it (~3 MiB of RSS for the agent's lifetime).
export function compareByName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
