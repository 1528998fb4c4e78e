// Layered soul: precedence agent > tenant > image, a hash that depends only on (layer, path,
// content), refusal of writable read-only layers for a non-root agent, and size caps.
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolvePaths } from '../config/paths.ts';
import { identityHash } from './hash.ts';
import { resolveIdentity } from './resolve.ts';
import { type ChainEntry, replaceableBy, swappableVia, writableBy } from './writable.ts';

const ROOT_USER = { uid: 0, gids: [0] };
const dirs: string[] = [];
let root: string;

function layerFile(rootDir: string, layer: 'image' | 'tenant' | 'agent', name: string, text: string): void {
  const l = resolvePaths({ root: rootDir }).layers.find((x) => x.name === layer)!;
  mkdirSync(l.dir, { recursive: true });
  writeFileSync(path.join(l.dir, name), text);
}

function freshRoot(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'clawdie-soul-'));
  dirs.push(d);
  return d;
}

beforeEach(() => {
  root = freshRoot();
});
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('resolveIdentity', () => {
  it('an empty soul is valid and has a fixed hash', async () => {
    const id = await resolveIdentity({ layers: resolvePaths({ root }).layers, principal: ROOT_USER });
    expect(id.files).toEqual([]);
    expect(id.hash).toBe(identityHash([]));
    expect(id.warnings).toEqual([]);
  });

  it('a higher layer wins per file', async () => {
    layerFile(root, 'image', 'SOUL.md', 'image soul');
    layerFile(root, 'image', 'USER.md', 'image user');
    layerFile(root, 'tenant', 'SOUL.md', 'tenant soul');
    layerFile(root, 'tenant', 'AGENTS.md', 'tenant agents');
    layerFile(root, 'agent', 'AGENTS.md', 'agent agents');
    const id = await resolveIdentity({ layers: resolvePaths({ root }).layers, principal: ROOT_USER });
    expect(id.texts).toEqual({
      'SOUL.md': 'tenant soul',
      'AGENTS.md': 'agent agents',
      'USER.md': 'image user',
    });
    expect(id.files.map((f) => `${f.name}:${f.layer}`)).toEqual([
      'SOUL.md:tenant',
      'AGENTS.md:agent',
      'USER.md:image',
    ]);
  });

  it('gives the same hash for the same soul in another root, another for another layer or content', async () => {
    const other = freshRoot();
    for (const r of [root, other]) layerFile(r, 'tenant', 'SOUL.md', 'be kind');
    const paths = (r: string) => resolvePaths({ root: r }).layers;
    const a = await resolveIdentity({ layers: paths(root), principal: ROOT_USER });
    const b = await resolveIdentity({ layers: paths(other), principal: ROOT_USER });
    expect(a.hash).toBe(b.hash);
    const third = freshRoot();
    layerFile(third, 'agent', 'SOUL.md', 'be kind');
    expect((await resolveIdentity({ layers: paths(third), principal: ROOT_USER })).hash).not.toBe(a.hash);
    expect(a.hash).toBe(
      identityHash([{ layer: 'tenant', path: 'SOUL.md', content: new TextEncoder().encode('be kind') }]),
    );
  });

  it('refuses image/tenant layers writable by a non-root agent user; warns when root', async () => {
    layerFile(root, 'tenant', 'SOUL.md', 'x');
    const layers = resolvePaths({ root }).layers;
    const tenantDir = layers.find((l) => l.name === 'tenant')!.dir;
    chownSync(tenantDir, 4242, 4242);
    await expect(resolveIdentity({ layers, principal: { uid: 4242, gids: [4242] } })).rejects.toThrow(
      /soul layer tenant is writable by the agent's user .*must be read-only/,
    );
    chownSync(tenantDir, 0, 0);
    chmodSync(tenantDir, 0o755);
    chmodSync(path.join(tenantDir, 'SOUL.md'), 0o644);
    await expect(resolveIdentity({ layers, principal: { uid: 4242, gids: [4242] } })).resolves.toMatchObject({
      warnings: [],
    });
    const asRoot = await resolveIdentity({ layers, principal: ROOT_USER });
    expect(asRoot.warnings[0]).toMatch(/soul layer tenant is writable .*runs as root/);
    // The agent's own layer may be writable.
    layerFile(root, 'agent', 'USER.md', 'me');
    const agentDir = layers.find((l) => l.name === 'agent')!.dir;
    chownSync(agentDir, 4242, 4242);
    const own = await resolveIdentity({ layers, principal: { uid: 4242, gids: [] } });
    expect(own.warnings).toEqual([]);
    expect(own.files).toContainEqual({ name: 'USER.md', layer: 'agent', bytes: 2 });
  });

  it('enforces the per-file and total caps with a clear error', async () => {
    layerFile(root, 'image', 'SOUL.md', 'a'.repeat(11));
    const layers = resolvePaths({ root }).layers;
    await expect(
      resolveIdentity({ layers, principal: ROOT_USER, limits: { perFileBytes: 10, totalBytes: 100 } }),
    ).rejects.toThrow('soul file image/SOUL.md is 11 bytes; the limit is 10');
    layerFile(root, 'image', 'SOUL.md', 'a'.repeat(8));
    layerFile(root, 'agent', 'USER.md', 'b'.repeat(8));
    await expect(
      resolveIdentity({ layers, principal: ROOT_USER, limits: { perFileBytes: 10, totalBytes: 15 } }),
    ).rejects.toThrow('the soul files total more than 15 bytes');
  });
});

describe('resolveIdentity: the parents of read-only layers', () => {
  const AGENT = { uid: 4242, gids: [4242] };
  const layersOf = (r: string) => resolvePaths({ root: r }).layers;
  const tenantDir = (r: string) => layersOf(r).find((l) => l.name === 'tenant')!.dir;
  const resolveAs = (who: { uid: number; gids: number[] }) =>
    resolveIdentity({ layers: layersOf(root), principal: who, root });

  beforeEach(() => {
    chmodSync(root, 0o755);
    layerFile(root, 'tenant', 'SOUL.md', 'tenant soul');
  });

  it('accepts a chain of root-owned parents that only root can write', async () => {
    await expect(resolveAs(AGENT)).resolves.toMatchObject({ warnings: [] });
  });

  it('refuses a parent the agent owns, or may write through its group or as other; names it; warns as root', async () => {
    const parent = path.dirname(tenantDir(root)); // usr/local/etc/clawdie
    const etc = path.dirname(parent);
    const cases: Array<[string, () => void, string]> = [
      ['owned', () => chownSync(parent, 4242, 4242), parent],
      [
        'owned though 0555',
        () => {
          chownSync(parent, 4242, 4242);
          chmodSync(parent, 0o555);
        },
        parent,
      ],
      [
        'group-writable',
        () => {
          chownSync(etc, 0, 4242);
          chmodSync(etc, 0o775);
        },
        etc,
      ],
      ['other-writable', () => chmodSync(etc, 0o757), etc],
      ['the root itself', () => chownSync(root, 4242, 4242), root],
    ];
    for (const [what, plant, named] of cases) {
      for (const d of [root, etc, parent]) {
        chownSync(d, 0, 0);
        chmodSync(d, 0o755);
      }
      plant();
      // The root belongs to every layer's chain: the missing image layer is found first there.
      const message =
        named === root
          ? `soul layer image (${path.join(root, 'usr/local/share/clawdie/soul')}) is missing and the agent's user could create it (${root} (parent directory)); its parents must be read-only to the agent`
          : `soul layer tenant is writable by the agent's user (${named} (parent directory)); it must be read-only to the agent`;
      await expect(resolveAs(AGENT), what).rejects.toThrow(message);
      const asRoot = await resolveAs(ROOT_USER);
      expect(asRoot.warnings.join('\n'), what).toMatch(
        /soul layer tenant is writable .* more\); allowed only because the agent runs as root/,
      );
    }
  });

  it('lets a sticky world-writable parent pass when neither it nor the layer belongs to the agent', async () => {
    const parent = path.dirname(tenantDir(root));
    chmodSync(parent, 0o1777);
    await expect(resolveAs(AGENT)).resolves.toMatchObject({ warnings: [] });
    chownSync(parent, 4242, 4242);
    await expect(resolveAs(AGENT)).rejects.toThrow(`${parent} (parent directory)`);
  });

  it('refuses a missing layer the agent could create, and a link among the parents', async () => {
    const tenant = tenantDir(root);
    const parent = path.dirname(tenant);
    rmSync(tenant, { recursive: true });
    await expect(resolveAs(AGENT)).resolves.toMatchObject({ files: [] });
    chownSync(parent, 4242, 4242);
    await expect(resolveAs(AGENT)).rejects.toThrow(
      `soul layer tenant (${tenant}) is missing and the agent's user could create it (${parent} (parent directory))`,
    );
    // As root a missing layer stays silent.
    await expect(resolveAs(ROOT_USER)).resolves.toMatchObject({ warnings: [] });
    chownSync(parent, 0, 0);
    layerFile(root, 'tenant', 'SOUL.md', 'tenant soul');
    // usr/local/etc/clawdie -> a real directory elsewhere in the root.
    renameSync(parent, path.join(root, 'elsewhere'));
    symlinkSync(path.join(root, 'elsewhere'), parent);
    await expect(resolveAs(AGENT)).rejects.toThrow(`${parent} (symbolic link)`);
  });
});

describe('swappableVia', () => {
  const entry = (p: string, uid: number, mode: number, link = false): ChainEntry => ({
    path: p,
    st: { uid, gid: uid, mode, link },
  });
  const modeArb = fc.integer({ min: 0, max: 0o1777 });

  it('never flags a chain of root-owned directories without group/other write bits for a non-root user; root sees every parent', () => {
    fc.assert(
      fc.property(
        fc.array(modeArb, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 60_000 }),
        (modes, uid) => {
          const chain = modes.map((m, i) => entry(`/d${i}`, 0, (m & ~0o022) | 0o40000));
          expect(swappableVia(chain, { uid, gids: [uid] })).toEqual([]);
          expect(swappableVia(chain, ROOT_USER)).toHaveLength(chain.length - 1);
        },
      ),
    );
  });

  it('flags exactly the parents that may replace (or create) the entry below them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ uid: fc.constantFrom(0, 7, 8), mode: modeArb, missing: fc.boolean() }), {
          minLength: 2,
          maxLength: 6,
        }),
        (dirs) => {
          const who = { uid: 7, gids: [9] };
          const chain = dirs.map((d, i) =>
            d.missing ? { path: `/d${i}`, st: null } : entry(`/d${i}`, d.uid, d.mode),
          );
          const flagged = swappableVia(chain, who);
          for (let i = 1; i < chain.length; i++) {
            const dir = chain[i]!.st;
            const expected = dir !== null && replaceableBy(dir, chain[i - 1]!.st, who);
            expect(flagged.includes(`/d${i} (parent directory)`)).toBe(expected);
          }
          // A directory the user owns can always be chmod-ed open: owning is controlling.
          for (let i = 1; i < chain.length; i++) {
            if (chain[i]!.st?.uid === 7) expect(flagged).toContain(`/d${i} (parent directory)`);
          }
        },
      ),
    );
  });
});

describe('identityHash', () => {
  it('is unambiguous: moving bytes between fields changes the hash', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.nat(8), (l, p, c, k) => {
        const enc = (s: string) => new TextEncoder().encode(s);
        const h1 = identityHash([{ layer: l, path: p, content: enc(c) }]);
        const moved = p.slice(0, k);
        const h2 = identityHash([{ layer: l + moved, path: p.slice(k), content: enc(c) }]);
        if (moved.length > 0) expect(h2).not.toBe(h1);
        expect(identityHash([{ layer: l, path: p, content: enc(c) }])).toBe(h1);
      }),
    );
  });
});

describe('writableBy', () => {
  it('follows owner, group and other bits; root always writes', () => {
    const st = { uid: 10, gid: 20, mode: 0o40755 };
    expect(writableBy(st, { uid: 10, gids: [] })).toBe(true);
    expect(writableBy(st, { uid: 11, gids: [20] })).toBe(false);
    expect(writableBy({ ...st, mode: 0o775 }, { uid: 11, gids: [20] })).toBe(true);
    expect(writableBy({ ...st, mode: 0o757 }, { uid: 11, gids: [] })).toBe(true);
    expect(writableBy({ ...st, mode: 0o555 }, { uid: 10, gids: [] })).toBe(false);
    expect(writableBy(st, { uid: 0, gids: [] })).toBe(true);
  });
});
