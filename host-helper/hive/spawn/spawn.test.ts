// The spawn policy's pure parts: each limit of decideSpawn, the subset rule and the descendants walk
// as properties, child names always valid tenant names, and the policy file's loading rules (an
// executor template is checked against the placeholders it may use).
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT_NAME_RE } from '../../../src/protocol/index.ts';
import {
  ANY_STATE,
  childTenantName,
  decideSpawn,
  descendants,
  executorArgv,
  type SpawnFacts,
} from './decide.ts';
import { DISABLED_POLICY, loadSpawnPolicy, parseSpawnPolicy, SpawnPolicyError } from './policy.ts';

const policy = parseSpawnPolicy({
  enabled: true,
  maxDepth: 2,
  maxChildrenPerParent: 2,
  maxTotalPerTenant: 3,
  rate: { count: 2, perSeconds: 60 },
  executor: { command: ['/bin/true'] },
});
const NOW = 1_000_000;
const facts = (over: Partial<SpawnFacts> = {}): SpawnFacts => ({
  requesterTenant: 'acme',
  parent: {
    agentId: 'queen',
    tenant: 'acme',
    capabilities: ['spawn', 'chat', 'image-render'],
    state: 'live',
  },
  parentDepth: 0,
  childrenOfParent: 0,
  totalForRoot: 0,
  recentAttempts: [],
  now: NOW,
  ...over,
});
const req = (capabilities: string[] = ['chat']) => ({ parent: 'queen', capabilities });

describe('decideSpawn', () => {
  it('allows within every limit and gives the child its depth', () => {
    expect(decideSpawn(policy, req(['chat', 'echo']), facts())).toEqual({ allow: true, depth: 1 });
  });

  it.each([
    ['disabled by default', DISABLED_POLICY, req(), facts(), /spawn policy disabled/],
    ['admin token', policy, req(), facts({ requesterTenant: null }), /not the admin/],
    ['unknown parent', policy, req(), facts({ parent: null }), /not an agent of this tenant/],
    [
      'another tenant’s parent',
      policy,
      req(),
      facts({ requesterTenant: 'other' }),
      /not an agent of this tenant/,
    ],
    [
      'parent not live',
      policy,
      req(),
      facts({ parent: { agentId: 'queen', tenant: 'acme', capabilities: ['spawn'], state: 'lost' } }),
      /not live/,
    ],
    [
      'parent without spawn',
      policy,
      req(),
      facts({ parent: { agentId: 'queen', tenant: 'acme', capabilities: ['chat'], state: 'live' } }),
      /spawn capability/,
    ],
    ['capability not held', policy, req(['chat', 'gpu']), facts(), /capability gpu is not held/],
    ['depth', policy, req(), facts({ parentDepth: 2 }), /depth 3 exceeds the limit of 2/],
    ['children per parent', policy, req(), facts({ childrenOfParent: 2 }), /2 children \(limit 2\)/],
    ['total per tenant', policy, req(), facts({ totalForRoot: 3 }), /3 spawned agents \(limit 3\)/],
    ['rate', policy, req(), facts({ recentAttempts: [NOW - 1_000, NOW - 59_000] }), /rate limit: at most 2/],
  ] as const)('denies: %s', (_label, pol, r, f, reason) => {
    const d = decideSpawn(pol, r, f);
    expect(d.allow).toBe(false);
    if (!d.allow) expect(d.deny).toMatch(reason);
  });

  it('attempts older than the window do not count', () => {
    expect(decideSpawn(policy, req(), facts({ recentAttempts: [NOW - 61_000, NOW - 60_000] })).allow).toBe(
      true,
    );
  });

  it('property: allowed only if the requested capabilities are a subset of the parent’s (plus echo)', () => {
    const cap = fc.constantFrom('a', 'b', 'c', 'd', 'echo', 'spawn');
    fc.assert(
      fc.property(fc.uniqueArray(cap), fc.array(cap), (held, asked) => {
        const parent = { agentId: 'queen', tenant: 'acme', capabilities: ['spawn', ...held], state: 'live' };
        const d = decideSpawn(policy, req(asked), facts({ parent }));
        const subset = asked.every((c) => c === 'echo' || parent.capabilities.includes(c));
        expect(d.allow).toBe(subset);
      }),
    );
  });
});

describe('helpers', () => {
  it('child tenant names are valid tenant names', () => {
    fc.assert(
      fc.property(fc.stringMatching(TENANT_NAME_RE), fc.stringMatching(/^[0-9a-f]{8}$/), (parent, suffix) => {
        const child = childTenantName(parent, suffix);
        expect(child).toMatch(TENANT_NAME_RE);
        expect(child.endsWith(`-${suffix}`)).toBe(true);
      }),
    );
  });

  it('fills executor placeholders without a shell', () => {
    expect(
      executorArgv(
        [
          '/usr/local/bin/clawdie-host',
          'spawn-agent',
          '{child}',
          '--collection',
          '{tenant}',
          '--x={capabilities}',
          '--depth={depth}',
          '{"not":"a placeholder"}',
        ],
        {
          child: 'acme-1a2b',
          tenant: 'acme',
          root: 'acme',
          parent: 'queen',
          capabilities: ['chat', 'echo'],
          depth: 1,
        },
      ),
    ).toEqual([
      '/usr/local/bin/clawdie-host',
      'spawn-agent',
      'acme-1a2b',
      '--collection',
      'acme',
      '--x=chat,echo',
      '--depth=1',
      '{"not":"a placeholder"}',
    ]);
  });

  it('descendants: every live descendant once, parents first; revoked branches are cut', () => {
    const rows = [
      { child: 'c1', parentTenant: 'acme', state: 'active' as const },
      { child: 'c2', parentTenant: 'acme', state: 'pending' as const },
      { child: 'g1', parentTenant: 'c1', state: 'active' as const },
      { child: 'g2', parentTenant: 'c2', state: 'failed' as const },
      { child: 'x1', parentTenant: 'other', state: 'active' as const },
      { child: 'r1', parentTenant: 'acme', state: 'revoked' as const },
      { child: 'r2', parentTenant: 'r1', state: 'active' as const },
    ];
    expect(descendants(rows, 'acme')).toEqual(['c1', 'c2', 'g1']);
    expect(descendants(rows, 'c1')).toEqual(['g1']);
    expect(descendants(rows, 'nobody')).toEqual([]);
    // What the host's revoke asks for: every state, so failed or already revoked branches too.
    expect(descendants(rows, 'acme', ANY_STATE)).toEqual(['c1', 'c2', 'r1', 'g1', 'g2', 'r2']);
  });

  it('property: descendants terminates on any graph (cycles included) and never returns the root', () => {
    const name = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    fc.assert(
      fc.property(
        fc.array(fc.record({ child: name, parentTenant: name, state: fc.constant('active' as const) })),
        name,
        (rows, root) => {
          const out = descendants(rows, root);
          expect(out).not.toContain(root);
          expect(new Set(out).size).toBe(out.length);
        },
      ),
    );
  });
});

describe('the policy file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'clawdie-spawn-policy-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const write = async (name: string, content: string, mode = 0o600): Promise<string> => {
    const file = path.join(dir, name);
    await writeFile(file, content);
    await chmod(file, mode);
    return file;
  };

  it('no file → disabled; a file without enabled → disabled with defaults', async () => {
    expect((await loadSpawnPolicy(undefined)).enabled).toBe(false);
    const p = await loadSpawnPolicy(await write('empty.json', '{}'));
    expect(p).toMatchObject({ enabled: false, maxDepth: 1, requireSpawnCapability: true });
  });

  it('refuses a missing file, a group-writable file, bad JSON, and names the bad field', async () => {
    await expect(loadSpawnPolicy(path.join(dir, 'missing.json'))).rejects.toThrow(
      /cannot be read \(ENOENT\)/,
    );
    await expect(loadSpawnPolicy(await write('open.json', '{}', 0o620))).rejects.toThrow(/writable by group/);
    await expect(loadSpawnPolicy(await write('bad.json', '{nope'))).rejects.toThrow(/not valid JSON/);
    await expect(loadSpawnPolicy(await write('noexec.json', '{"enabled": true}'))).rejects.toThrow(
      /spawn policy: executor: is required when enabled/,
    );
    await expect(
      loadSpawnPolicy(
        await write('rel.json', '{"enabled": true, "executor": {"command": ["clawdie-host"]}}'),
      ),
    ).rejects.toThrow(/executor.command: the program .* absolute path/);
    await expect(loadSpawnPolicy(await write('depth.json', '{"maxDepth": 0}'))).rejects.toThrow(/maxDepth:/);
    await expect(loadSpawnPolicy(await write('typo.json', '{"maxdepth": 3}'))).rejects.toThrow(
      /spawn policy:/,
    );
    await expect(
      loadSpawnPolicy(
        await write(
          'admin.json',
          '{"enabled": true, "executor": {"command": ["/bin/true"], "passEnv": ["CLAWDIE_HIVE_ADMIN_TOKEN"]}}',
        ),
      ),
    ).rejects.toThrow(/must not pass the hive admin token/);
  });

  it('refuses an executor template with an unknown placeholder, naming the field', () => {
    const withArgs = (...args: string[]) => ({ enabled: true, executor: { command: ['/bin/x', ...args] } });
    expect(() => parseSpawnPolicy(withArgs('spawn-agent', '{chld}', '--jail'))).toThrow(
      new SpawnPolicyError(
        'spawn policy: executor.command.2: unknown placeholder {chld} (known: {child}, {tenant}, {root}, {parent}, {capabilities}, {depth})',
      ),
    );
    expect(() => parseSpawnPolicy(withArgs('--collection={Tenant}'))).toThrow(
      /command\.1: unknown placeholder \{Tenant\}/,
    );
    expect(
      parseSpawnPolicy(withArgs('{child}', '--caps={capabilities}', '{}', '{1}')).executor?.command,
    ).toHaveLength(5);
  });
});
