// The soul-layer check reaches the layers' parents (DESIGN §7), with the real agent process run as an
// unprivileged uid (setpriv) in a jail-like root with real owners and modes: a tenant layer whose
// parent directory the agent owns (it could rename the layer away and plant its own soul) is
// refused at start with exit 1 and one line naming that directory; the same tree with root-owned
// parents boots; as root the agent only warns, naming it too.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeBinary, REPO_ROOT } from '../support/hive-process.ts';
import { type AgentProcess, makeRoot, removeRoot, startAgent } from './agent-process.ts';

const UID = 4242;
const canDrop = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
const roots: string[] = [];
const agents: AgentProcess[] = [];

afterAll(async () => {
  for (const a of agents) await a.kill();
  for (const r of roots) removeRoot(r);
});

/** A root as the image and the host leave it: root-owned 0755 soul layers, the agent's own home and state. */
function jailRoot(): { root: string; tenantParent: string } {
  const root = makeRoot();
  roots.push(root);
  chmodSync(root, 0o755);
  const tenant = path.join(root, 'usr/local/etc/clawdie/soul');
  mkdirSync(tenant, { recursive: true, mode: 0o755 });
  writeFileSync(path.join(tenant, 'SOUL.md'), 'tenant soul\n', { mode: 0o644 });
  for (const own of ['home/clawdie', 'var/db/clawdie']) {
    mkdirSync(path.join(root, own), { recursive: true });
    chmodSync(path.join(root, own), 0o700);
    chownSync(path.join(root, own), UID, UID);
  }
  return { root, tenantParent: path.dirname(tenant) };
}

/** `clawdie-agent run` as uid 4242; resolves with its exit code and output once it exits or logs `until`. */
function runAsAgentUser(
  root: string,
  until?: string,
): Promise<{ code: number | null; out: string; stop: () => Promise<void> }> {
  const child = spawn(
    'setpriv',
    [
      `--reuid=${UID}`,
      `--regid=${UID}`,
      '--clear-groups',
      nodeBinary(),
      path.join(REPO_ROOT, 'src/cli.ts'),
      'run',
      '--root',
      root,
    ],
    { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve) => {
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (until && out.includes(until)) resolve({ code: null, out, stop });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => resolve({ code, out, stop }));
  });
}

describe.skipIf(!canDrop)('soul layer parents, agent as an unprivileged user', () => {
  it('refuses a tenant layer whose parent the agent owns, naming it; boots once the parent is root-owned', async () => {
    const { root, tenantParent } = jailRoot();
    chownSync(tenantParent, UID, UID);
    const refused = await runAsAgentUser(root);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(
      `clawdie-agent: soul layer tenant is writable by the agent's user (${tenantParent} (parent directory)); it must be read-only to the agent\n`,
    );

    chownSync(tenantParent, 0, 0);
    const booted = await runAsAgentUser(root, '"msg":"identity resolved"');
    // Booted on the tenant's soul, with no warning logged on the way.
    const records = booted.out
      .split('\n')
      .filter((l) => l.startsWith('{') && l.endsWith('}'))
      .map((l) => JSON.parse(l) as { level: number; msg: string; soul?: unknown });
    expect(records.filter((r) => r.level >= 40)).toEqual([]);
    expect(records.find((r) => r.msg === 'identity resolved')?.soul).toEqual([
      { name: 'SOUL.md', layer: 'tenant', bytes: 12 },
    ]);
    await booted.stop();
  }, 60_000);

  it('only warns, naming the parent, when the agent runs as root', async () => {
    const { root, tenantParent } = jailRoot();
    chmodSync(tenantParent, 0o777);
    const a = startAgent(root);
    agents.push(a);
    const warn = await a.waitLog(
      (l) => l.level === 40 && String(l.msg).startsWith('soul layer tenant is writable'),
      'soul warning',
    );
    expect(String(warn.msg)).toContain(`${tenantParent} (parent directory)`);
    expect(String(warn.msg)).toMatch(/allowed only because the agent runs as root/);
  }, 60_000);
});
