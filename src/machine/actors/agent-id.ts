// The agent's stable id (DESIGN §5: chosen by the agent, stable across restarts): `<tenant>-<random>`,
// kept in the state dir. A file for another tenant (the jail was re-provisioned) yields a new id.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { AGENT_ID_RE } from '../../protocol/names.ts';

export async function loadOrCreateAgentId(stateDir: string, file: string, tenant: string): Promise<string> {
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.startsWith(`${tenant}-`) && AGENT_ID_RE.test(existing)) return existing;
  } catch {
    // missing or unreadable: mint a new one below
  }
  const id = `${tenant}-${randomBytes(6).toString('hex')}`;
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const tmp = path.join(stateDir, `.agent-id.${process.pid}.${randomBytes(4).toString('hex')}`);
  const handle = await open(
    tmp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    await handle.writeFile(`${id}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  return id;
}
