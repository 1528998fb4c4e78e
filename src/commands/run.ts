// `clawdie-agent run [--root DIR]`: the thin imperative shell around the machine. Builds the real
// dependencies, starts the actor, turns SIGTERM/SIGINT into a `shutdown` event (a second signal
// forces exit), keeps status.json current, and returns the exit code: 0 stopped, 1 failed (with
// one line).
import { getHeapStatistics } from 'node:v8';
import { createActor } from 'xstate';
import { tuningFromEnv } from '../config/tuning.ts';
import { settleHeap, tuneV8ForIdleAgent } from '../config/v8.ts';
import { HiveClient } from '../hive/client.ts';
import { loadHiveCa } from '../hive/tls/ca-file.ts';
import { trustReader } from '../hive/tls/connector.ts';
import { currentPrincipal } from '../identity/resolve.ts';
import { createLogger } from '../log.ts';
import { agentMachine } from '../machine/agent-machine.ts';
import { crashLoopGate } from '../machine/crash-loop-guard.ts';
import { type AgentDeps, realSleep } from '../machine/deps.ts';
import { whenRunningFor } from '../machine/running-for.ts';
import { SecretsBox } from '../secrets/box.ts';
import { trackStatus } from '../status/track.ts';
import { type Command, commandArgs } from './command.ts';

/** How long the agent stays in `running` before boot's heap is given back (config/v8.ts). */
const HEAP_SETTLE_MS = 10_000;

export const run: Command = async (argv, io) => {
  const { paths } = commandArgs(argv, io.env);
  const log = createLogger({ name: 'clawdie-agent' });
  const { version } = io;
  tuneV8ForIdleAgent();
  const tuning = tuningFromEnv(io.env);
  // A crash loop under a restarting service manager waits here, before anything reaches the hive.
  const breaker = await crashLoopGate({
    file: paths.crashLoopFile,
    statusFile: paths.statusFile,
    version,
    policy: tuning.crashLoop,
    log,
  });
  if (breaker.exitCode !== undefined) return breaker.exitCode;
  const secrets = new SecretsBox();
  // The hive's CA from the read-only soul layers (read once; a new one comes with a restart), its
  // pins from the `.env` (read with every request, so a rotated `.env` applies at once).
  const principal = currentPrincipal();
  let ca: Awaited<ReturnType<typeof loadHiveCa>>;
  try {
    ca = await loadHiveCa(paths.layers, principal);
  } catch (err) {
    io.stderr.write(`clawdie-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    log.error({ err }, 'failed');
    return await breaker.finish(1);
  }
  for (const w of ca?.warnings ?? []) log.warn(w);
  if (ca) log.info({ file: ca.file }, 'hive CA file in use');
  const hive = new HiveClient({
    baseUrl: () => secrets.get()?.CLAWDIE_HIVE_URL,
    token: () => secrets.get()?.CLAWDIE_HIVE_TOKEN,
    trust: trustReader(ca?.pem, () => secrets.get()?.CLAWDIE_HIVE_TLS_PIN),
  });
  const deps: AgentDeps = {
    paths,
    log,
    hive,
    secrets,
    createRunner: io.createRunner,
    principal,
    version,
    os: process.platform,
    now: Date.now,
    random: Math.random,
    sleep: realSleep,
    tuning,
  };
  const actor = createActor(agentMachine, { input: deps });
  const untrack = trackStatus(actor, {
    file: paths.statusFile,
    version,
    now: Date.now,
    onError: (err) => log.warn({ err }, 'could not write status.json'),
    breaker: breaker.status,
  });
  const unwatch = breaker.watch(actor, untrack.refresh);
  // Once, when boot is well behind: its garbage and its grown young generation go back to the OS.
  let settled = false;
  const unwatchSettle = whenRunningFor(actor, HEAP_SETTLE_MS, () => {
    if (settled) return;
    settled = true;
    // V8's own figures: process.memoryUsage() reads /proc, which a jail may not mount.
    const before = getHeapStatistics().total_physical_size;
    try {
      if (settleHeap()) {
        log.debug(
          { heapBefore: before, heapAfter: getHeapStatistics().total_physical_size },
          'heap settled after boot',
        );
      }
    } catch (err) {
      log.warn({ err }, 'could not settle the heap after boot');
    }
  });

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      log.warn({ signal }, 'second signal: forced exit');
      process.exit(130);
    }
    log.info({ signal }, 'shutdown requested');
    actor.send({ type: 'shutdown' });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  log.info({ root: paths.root, version }, 'clawdie-agent starting');
  const done = new Promise<void>((resolve) => {
    actor.subscribe({ complete: () => resolve(), error: () => resolve() });
  });
  actor.start();
  await done;

  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  untrack();
  unwatch();
  unwatchSettle();
  await hive.close();
  const snap = actor.getSnapshot();
  if (snap.status === 'error') {
    io.stderr.write('clawdie-agent: internal error in the agent machine\n');
    log.error({ err: snap.error }, 'machine error');
    return await breaker.finish(1);
  }
  if (snap.value === 'failed') {
    io.stderr.write(`clawdie-agent: ${snap.context.failure ?? 'failed'}\n`);
    return await breaker.finish(1);
  }
  return await breaker.finish(0);
};
