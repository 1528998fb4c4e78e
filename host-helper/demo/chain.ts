// `npm start` (= `clawdie-host demo`): the whole chain on this machine, no root, `dir` backend.
// Reference hive (SQLite under <dir>/hive) → vault test server with the demo tenant and a shared
// lane → register-tenant → provision (ONE bw session for both) → two real agents boot from their
// jail roots → the tenant's chat is asked for a chart: its model calls the bar-chart tool, which
// borrows image-render from the lane (chat-chart.ts) → results, then everything stops. Each step prints as it happens, with
// timings. Ctrl-C at any point stops every child and exits 130. Nothing secret is printed: keys and
// tokens stay in the vault, the 0600 .env files and the 0600 host store.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '../../src/errors.ts';
import type { CommandIO } from '../command.ts';
import { type HostContext, withContext } from '../commands/context.ts';
import { provisionTenants, registerTenant } from '../commands/tenant-ops.ts';
import { readAdminToken } from '../config/secret-file.ts';
import { EXIT, HostError } from '../exit-codes.ts';
import { type DemoAgent, startAgent, waitLive } from './agents.ts';
import { chartByChat } from './chat-chart.ts';
import { chooseProvider, DEMO_LANE, DEMO_TENANT, demoFixture, loadDevModule } from './fixtures.ts';
import { launchHive } from './hive.ts';
import { Interrupted, Progress, seconds } from './progress.ts';
import { forceRemove, prepareSoul } from './roots.ts';
import { ensurePrivateDir } from './state.ts';

type VaultModule = typeof import('./services/test-vault.ts');
type LlmModule = typeof import('./services/fake-llm.ts');

export interface DemoState {
  dir: string;
  shown: string;
  tokenFile: string;
  listen: string;
}

export async function runChain(io: CommandIO, state: DemoState): Promise<number> {
  // Times count from the process start, so they include node's own start-up.
  const p = new Progress(io.stdout, io.signal, 0);
  const provider = chooseProvider(io.env);
  const cleanups: (() => Promise<unknown>)[] = [];
  const { dir, shown } = state;
  const rel = (...parts: string[]): string => join(shown, ...parts);

  p.line('clawdie demo: hive, vault, clawdie-host and two agents on this machine (dir backend, no root)');
  p.line(
    provider.kind === 'real'
      ? `  chat provider: ${provider.name} (${provider.keyVar} from your environment, handed over through the demo vault)`
      : '  chat provider: the offline fake provider (host-helper/demo/services/fake-llm.ts); set OPENROUTER_API_KEY or DEEPSEEK_API_KEY for a real one',
  );
  try {
    // A fresh run: the previous run's tenants, jails, logs and hive database go; the admin token stays.
    for (const name of [
      'jails',
      'host',
      'logs',
      'chart.png',
      'hive/hive.db',
      'hive/hive.db-wal',
      'hive/hive.db-shm',
    ])
      await forceRemove(join(dir, name));
    for (const sub of ['host', 'logs', 'jails']) await ensurePrivateDir(join(dir, sub));

    // Start the servers side by side; each step then shows when its part was ready.
    const hiveP = launchHive({
      dir,
      listen: state.listen,
      tokenFile: state.tokenFile,
      env: io.env,
      shownDir: shown,
    });
    const llmP =
      provider.kind === 'fake'
        ? loadDevModule<LlmModule>('host-helper/demo/services/fake-llm.ts').then((m) => m.startFakeLlm())
        : Promise.resolve(undefined);
    const vaultP = Promise.all([
      loadDevModule<VaultModule>('host-helper/demo/services/test-vault.ts'),
      llmP,
    ]).then(([m, llm]) =>
      m.startTestVault({ fixture: demoFixture(provider, io.env, llm?.url), timeoutMs: 60_000 }),
    );
    cleanups.push(
      () => hiveP.then((h) => h.stop()).catch(() => undefined),
      () => llmP.then((l) => l?.close()).catch(() => undefined),
      () => vaultP.then((v) => v.close()).catch(() => undefined),
    );

    const hive = await p.step(
      'hive coordinator',
      () => hiveP,
      (h) => `${h.url}  (SQLite ${rel('hive', 'hive.db')})`,
    );
    const llm = await p.step(
      'LLM provider',
      () => llmP,
      (l) =>
        l
          ? `offline fake at ${l.url}`
          : `${provider.kind === 'real' ? provider.name : ''} (real; the key is never printed)`,
    );
    void llm;
    const vault = await p.step(
      'vault test server',
      () => vaultP,
      (v) => `${v.url}  org Clawdie: collections ${DEMO_TENANT} (provider key), ${DEMO_LANE} (shared lane)`,
    );

    const configFile = join(dir, 'host', 'host.json');
    const config = {
      store: join(dir, 'host', 'tenants.db'),
      vault: {
        server: vault.url,
        organization: 'Clawdie',
        credentialsFile: vault.credentialsFile,
        appdataDir: vault.appdataDir,
        bwBin: vault.bwBin,
        extraCaCertsFile: vault.caCertPath,
        timeoutMs: 60_000,
      },
      hive: { url: hive.url, adminTokenFile: state.tokenFile },
      jails: { backend: 'dir', root: join(dir, 'jails'), user: 'clawdie' },
    };
    await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });

    const tenants = [DEMO_TENANT, DEMO_LANE];
    const parsed = { positionals: [], values: {}, json: false, config: configFile };
    return await withContext(parsed, io, async (ctx: HostContext) => {
      await p.step(
        'jails (dir backend)',
        async () => {
          for (const t of tenants) {
            await ctx.backend.create(t);
            const root = join(ctx.backend.jailsRoot(), t, 'root');
            const lane = t === DEMO_LANE;
            await prepareSoul(root, {
              tenant: t,
              skills: lane ? ['image-render'] : ['chat', 'bar-chart'],
              nodeModules: lane,
            });
          }
        },
        () => tenants.map((t) => rel('jails', t, 'root')).join(', '),
      );
      // The agents boot now, as a jail's would: each waits for its .env (awaiting secrets) and
      // registers the moment provisioning puts it in place, so their start overlaps the bw session.
      const agents: DemoAgent[] = [];
      cleanups.unshift(() => Promise.all(agents.map((a) => a.stop())));
      await p.step(
        'agents start',
        async () => {
          for (const t of tenants) {
            const root = join(ctx.backend.jailsRoot(), t, 'root');
            agents.push(await startAgent(t, root, join(dir, 'logs', `${t}.log`), io.env.PATH ?? ''));
          }
        },
        () =>
          `clawdie-agent run --root ${rel('jails', '<tenant>', 'root')}: pids ${agents.map((a) => a.child.pid).join(', ')}, awaiting their .env`,
      );
      await p.step(
        'register-tenant',
        async () => {
          await registerTenant(ctx, DEMO_TENANT, { reenable: true });
          await registerTenant(ctx, DEMO_LANE, { shared: true, reenable: true });
        },
        () => `${DEMO_TENANT} (private), ${DEMO_LANE} (shared lane)`,
      );
      const outcomes = await p.step(
        'provision (1 bw session)',
        () => provisionTenants(ctx, tenants, false),
        (os) => os.map((o) => `${o.tenant}: .env ${o.result} (0600, ${o.status})`).join(', '),
      );
      const failed = outcomes.find((o) => o.exitCode !== EXIT.ok || o.result === 'no-collection');
      if (failed)
        throw new HostError(`provision ${failed.tenant}: ${failed.error ?? failed.result}`, EXIT.failure);

      const live = await p.step(
        'agents register',
        () => waitLive(hive.url, readAdminToken(state.tokenFile), tenants, io.signal),
        (m) =>
          tenants.map((t) => `${t}: ${[...(m.get(t)?.capabilities ?? [])].sort().join(', ')}`).join('  |  '),
      );

      const token = ctx.store.hiveToken(DEMO_TENANT);
      if (!token) throw new HostError(`no hive token for ${DEMO_TENANT} after provision`, EXIT.failure);
      await chartByChat(p, {
        hiveUrl: hive.url,
        token,
        dir,
        shown,
        live,
        signal: io.signal,
        requirePng: provider.kind === 'fake',
      });

      await p.step(
        'stop',
        async () => {
          await runCleanups(cleanups);
          // Your real key does not outlive the demo on disk; the offline .env files stay to look at.
          if (provider.kind === 'real')
            for (const t of tenants)
              await rm(join(ctx.backend.jailsRoot(), t, 'root/home/clawdie/.env'), { force: true });
        },
        () =>
          `agents drained and deregistered, hive, vault and LLM stopped${provider.kind === 'real' ? '; .env files removed' : ''}`,
      );
      p.line(
        `clawdie demo: done in ${seconds(p.elapsed())}; logs in ${rel('logs')}, hive log ${rel('hive', 'hive.log')}`,
      );
      return EXIT.ok;
    });
  } catch (err) {
    if (err instanceof Interrupted || io.signal.aborted) {
      p.line('clawdie demo: interrupted; stopping everything');
      await runCleanups(cleanups);
      await Promise.race([p.inFlight, new Promise((r) => setTimeout(r, 15_000).unref())]);
      return 130;
    }
    await runCleanups(cleanups);
    throw err instanceof HostError
      ? err
      : new HostError(`${describeError(err)} (logs in ${rel('logs')})`, EXIT.failure, { cause: err });
  }
}

async function runCleanups(cleanups: (() => Promise<unknown>)[]): Promise<void> {
  while (cleanups.length > 0) {
    const next = cleanups.shift();
    await next?.().catch(() => undefined);
  }
}
