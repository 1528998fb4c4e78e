// `clawdie-host body install|list|switch|rollback|prune` (DESIGN §11): the versions of the body
// every jail sees read-only, in the store named by host.json's `jails.bodies`.
//   install [--from DIR] [--node PATH] [--runtime linux|freebsd]   a version from the build output
//           (default ./dist/body); it becomes `current`, the one before it `previous`
//   list                                  versions, the two links, and which jails run which
//   switch VERSION (T... | --all)         drained restart of each jail onto VERSION (with --all,
//                                         VERSION also becomes `current`)
//   rollback (T... | --all)               switch to `previous` (with --all, the links swap)
//   prune                                 removes versions no link and no jail uses
// Jails switch one after another, each under its tenant lock, so a provision never races a restart.
import path from 'node:path';
import {
  installBody,
  listVersions,
  type RuntimeKind,
  readLink,
  readManifest,
  removeVersionDir,
  setLink,
  versionDir,
  withStoreLock,
} from '../body/store.ts';
import type { Command } from '../command.ts';
import { EXIT, HostError, usageError } from '../exit-codes.ts';
import { type HostContext, parseFlags, tenantArg, withContext } from './context.ts';

const SUBCOMMANDS = ['install', 'list', 'switch', 'rollback', 'prune'] as const;

function storeOf(ctx: HostContext): string {
  const dir = ctx.config.jails.bodies;
  if (!dir) throw new HostError('jails.bodies is not set in the host config', EXIT.usage);
  return dir;
}

/** Which jail runs which version (jails without a body are left out). */
async function jailBodies(ctx: HostContext): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const jail of await ctx.backend.list()) {
    const v = await ctx.backend.bodyOf(jail);
    if (v) out.set(jail, v);
  }
  return out;
}

interface SwitchResult {
  jail: string;
  from: string | undefined;
  to: string;
  switched: boolean;
  error?: string;
}

/** Drained restarts, one jail at a time; a failure is reported and the others still switch. */
async function switchJails(ctx: HostContext, jails: string[], version: string): Promise<SwitchResult[]> {
  const results: SwitchResult[] = [];
  for (const jail of jails) {
    const from = await ctx.backend.bodyOf(jail);
    if (from === version) {
      results.push({ jail, from, to: version, switched: false });
      continue;
    }
    try {
      await ctx.withTenantLock(jail, () => ctx.backend.switchBody(jail, version));
      results.push({ jail, from, to: version, switched: true });
    } catch (err) {
      results.push({ jail, from, to: version, switched: false, error: (err as Error).message });
    }
  }
  return results;
}

async function targets(ctx: HostContext, names: string[], all: boolean): Promise<string[]> {
  if (all === names.length > 0) throw usageError('name the jails, or give --all');
  if (all) return [...(await jailBodies(ctx)).keys()];
  const jails = names.map(tenantArg);
  for (const j of jails) {
    if (!(await ctx.backend.exists(j))) throw new HostError(`jail ${j} does not exist`, EXIT.notFound);
  }
  return jails;
}

function report(ctx: HostContext, version: string, results: SwitchResult[]): number {
  const lines = results.map((r) =>
    r.error
      ? `${r.jail}: ${r.from ?? 'none'} → ${r.to} FAILED: ${r.error}`
      : `${r.jail}: ${r.switched ? `${r.from ?? 'none'} → ${r.to} (drained restart)` : `already on ${r.to}`}`,
  );
  ctx.print({ version, jails: results }, lines.length > 0 ? lines : [`no jail to switch to ${version}`]);
  return results.some((r) => r.error) ? EXIT.failure : EXIT.ok;
}

export const run: Command = async (argv, io) => {
  const [sub, ...rest] = argv;
  if (!SUBCOMMANDS.includes(sub as (typeof SUBCOMMANDS)[number])) {
    throw usageError(`body needs one of: ${SUBCOMMANDS.join(', ')}`);
  }
  const parsed = parseFlags(
    rest,
    {
      from: { type: 'string' },
      node: { type: 'string' },
      runtime: { type: 'string' },
      all: { type: 'boolean' },
    },
    sub === 'switch' || sub === 'rollback' ? 1000 : 0,
  );
  return withContext(parsed, io, async (ctx) => {
    const store = storeOf(ctx);
    const all = parsed.values.all === true;
    switch (sub) {
      case 'install': {
        const runtime = (parsed.values.runtime ??
          (process.platform === 'freebsd' ? 'freebsd' : 'linux')) as string;
        if (runtime !== 'linux' && runtime !== 'freebsd') throw usageError('--runtime is linux or freebsd');
        const from = path.resolve(String(parsed.values.from ?? 'dist/body'));
        const r = await withStoreLock(store, () =>
          installBody(store, {
            from,
            runtime: runtime as RuntimeKind,
            ...(typeof parsed.values.node === 'string' ? { nodeBin: path.resolve(parsed.values.node) } : {}),
          }),
        );
        ctx.print(
          { ...r, dir: versionDir(store, r.version) },
          `body ${r.version} ${r.created ? 'installed' : 'was installed already'}; current (previous: ${r.previous ?? 'none'})`,
        );
        return EXIT.ok;
      }
      case 'list': {
        const current = readLink(store, 'current');
        const previous = readLink(store, 'previous');
        const used = await jailBodies(ctx);
        const versions = listVersions(store).map((version) => {
          const m = readManifest(store, version);
          const jails = [...used].filter(([, v]) => v === version).map(([j]) => j);
          return {
            version,
            agent: m.agent,
            node: m.node,
            platform: m.platform,
            current: version === current,
            previous: version === previous,
            jails,
          };
        });
        ctx.print(
          { store, current, previous, versions },
          versions.length === 0
            ? `no body installed in ${store}`
            : versions.map(
                (v) =>
                  `${v.version}${v.current ? ' [current]' : ''}${v.previous ? ' [previous]' : ''}  agent ${v.agent}, node ${v.node}, ${v.platform}; jails: ${v.jails.join(' ') || 'none'}`,
              ),
        );
        return EXIT.ok;
      }
      case 'switch': {
        const [version, ...names] = parsed.positionals;
        if (!version) throw usageError('switch needs a body version');
        if (!listVersions(store).includes(version)) {
          versionDir(store, version); // a malformed name is a usage error
          throw new HostError(`body ${version} is not installed`, EXIT.notFound);
        }
        readManifest(store, version);
        const jails = await targets(ctx, names, all);
        if (all) {
          await withStoreLock(store, async () => {
            const before = readLink(store, 'current');
            if (before && before !== version) setLink(store, 'previous', before);
            setLink(store, 'current', version);
          });
        }
        return report(ctx, version, await switchJails(ctx, jails, version));
      }
      case 'rollback': {
        const previous = readLink(store, 'previous');
        if (!previous) throw new HostError('there is no previous body to roll back to', EXIT.notFound);
        const jails = await targets(ctx, parsed.positionals, all);
        if (all) {
          await withStoreLock(store, async () => {
            const current = readLink(store, 'current');
            setLink(store, 'current', previous);
            if (current) setLink(store, 'previous', current);
          });
        }
        return report(ctx, previous, await switchJails(ctx, jails, previous));
      }
      default: {
        // prune
        const removed = await withStoreLock(store, async () => {
          const keep = new Set([readLink(store, 'current'), readLink(store, 'previous')]);
          for (const v of (await jailBodies(ctx)).values()) keep.add(v);
          const gone = listVersions(store).filter((v) => !keep.has(v));
          for (const v of gone) removeVersionDir(versionDir(store, v));
          return gone;
        });
        ctx.print({ removed }, removed.length ? removed.map((v) => `removed ${v}`) : 'nothing to prune');
        return EXIT.ok;
      }
    }
  });
};
