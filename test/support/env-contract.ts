// Test support: the one .env contract (DESIGN §6) as a check, for the renderer's property test and
// the fuzz suite. renderEnv either refuses with one line naming an entry's item id or the rule
// (never a value), or its text reads back through dotenv exactly and the agent's own code path
// (checkEnvFile on a real 0600 file) accepts it, value for value.
import fs from 'node:fs';
import { parse } from 'dotenv';
import { expect } from 'vitest';
import type { EnvEntry } from '../../host-helper/envfile/entry.ts';
import { type HostValues, RenderError, renderEnv } from '../../host-helper/envfile/render.ts';
import { checkEnvFile } from '../../src/secrets/accept.ts';

/** How it went: written and accepted, or refused naming an item (by the agent's rules or the host's), or the whole file. */
export type ContractOutcome = 'accepted' | 'agent-item' | 'agent-file' | 'host-item';

const AGENT_FILE = 'the agent would refuse this .env: ';

export async function renderUnderContract(
  entries: readonly EnvEntry[],
  host: HostValues,
  envFile: string,
  /** Values holding this must never be echoed in a refusal. */
  mark?: string,
): Promise<ContractOutcome> {
  let text: string;
  try {
    text = renderEnv(entries, host);
  } catch (err) {
    expect(err).toBeInstanceOf(RenderError);
    const m = (err as Error).message;
    expect(m.trim().length > 0 && !m.includes('\n')).toBe(true);
    for (const e of entries)
      if (e.value.length >= 12 || (mark !== undefined && e.value.includes(mark)))
        expect(m).not.toContain(e.value);
    if (m.startsWith(AGENT_FILE)) return 'agent-file';
    const named = entries.find((e) => m.startsWith(`item ${e.itemId}: `));
    expect(named, m).toBeDefined();
    return m.includes(': the agent would refuse ') ? 'agent-item' : 'host-item';
  }
  const written = {
    CLAWDIE_TENANT: host.tenant,
    CLAWDIE_HIVE_URL: host.hiveUrl,
    CLAWDIE_HIVE_TOKEN: host.hiveToken,
    ...Object.fromEntries(entries.map((e) => [e.name, e.value])),
  };
  expect(parse(text)).toEqual(written);
  fs.rmSync(envFile, { force: true });
  fs.writeFileSync(envFile, text, { mode: 0o600 });
  const verdict = await checkEnvFile(envFile, process.getuid?.() ?? 0);
  expect(verdict.status, verdict.status === 'valid' ? '' : verdict.reason).toBe('valid');
  if (verdict.status === 'valid')
    for (const [k, v] of Object.entries(written)) expect(verdict.env[k]).toBe(v);
  return 'accepted';
}
