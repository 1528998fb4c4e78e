// The crash-loop breaker's thin shell around ./crash-loop.ts, used by `clawdie-agent run` before the
// machine starts. I/O: one sync read of the record and one sync write of this start (so a crash at
// any moment after the gate counts), later writes async and serialised, one log line when it
// opens, status.json while it waits, SIGTERM/SIGINT during the wait (exit 0 at once, the loop
// still remembered), and a timer (unref'd) that closes the breaker once the machine has stayed in
// `running` for `healthyMs`.
import type { Actor } from 'xstate';
import type { Logger } from '../log.ts';
import type { BreakerStatus } from '../status/status.ts';
import { writeStatusAtomic } from '../status/write-status.ts';
import type { AgentMachine } from './agent-machine.ts';
import {
  breakerStatus,
  type CrashLoopPolicy,
  type CrashLoopRecord,
  onCleanExit,
  onHealthy,
  onStart,
  onWaitInterrupted,
} from './crash-loop.ts';
import { readCrashLoopRecord, writeCrashLoopRecord, writeCrashLoopRecordSync } from './crash-loop-file.ts';
import { whenRunningFor } from './running-for.ts';

export interface GateOptions {
  file: string;
  statusFile: string;
  version: string;
  policy: CrashLoopPolicy;
  log: Logger;
  now?: () => number;
}

export interface CrashLoopGuard {
  /** Set when a signal ended the wait: exit with it instead of booting. */
  exitCode?: number;
  status(): BreakerStatus;
  /** Closes the breaker once `actor` has stayed in `running` for `healthyMs`; `changed` then runs. */
  watch(actor: Actor<AgentMachine>, changed: () => void): () => void;
  /**
   * The process is about to exit with `code`: 0 (after a drain) records a clean end; any other code
   * leaves the run open, to be counted unclean at the next start. Waits for every write.
   */
  finish(code: number): Promise<number>;
}

const secs = (ms: number): number => Math.round(ms / 100) / 10;

export async function crashLoopGate(o: GateOptions): Promise<CrashLoopGuard> {
  const now = o.now ?? Date.now;
  const read = readCrashLoopRecord(o.file);
  if (read.warning) o.log.warn(read.warning);
  const verdict = onStart(read.record, now(), process.pid, o.policy);
  let record: CrashLoopRecord = verdict.record;
  let waitingUntil: number | undefined;

  let pending: Promise<void> = Promise.resolve();
  const save = (r: CrashLoopRecord): Promise<void> => {
    record = r;
    pending = pending
      .then(() => writeCrashLoopRecord(o.file, r))
      .catch((err: unknown) => o.log.warn({ err }, 'could not write the crash-loop record'));
    return pending;
  };
  // This start is on disk before the gate returns: a crash at any later moment is counted.
  try {
    writeCrashLoopRecordSync(o.file, record);
  } catch (err) {
    o.log.warn({ err }, 'could not write the crash-loop record');
  }

  const guard: CrashLoopGuard = {
    status: () => breakerStatus(record, waitingUntil),
    watch(actor, changed) {
      return whenRunningFor(actor, o.policy.healthyMs, () => {
        if (record.trips === 0 && record.uncleanEnds.length === 0) return;
        o.log.info('crash-loop breaker closed: the agent has run healthy');
        void save(onHealthy(record));
        changed();
      });
    },
    async finish(code) {
      await (code === 0 ? save(onCleanExit(record)) : pending);
      return code;
    },
  };

  if (verdict.previousUnclean && !verdict.open) {
    o.log.info({ uncleanEnds: verdict.uncleanInWindow }, 'the previous run did not end cleanly');
  }
  if (!verdict.open) return guard;

  waitingUntil = now() + verdict.delayMs;
  // Listen for signals before anyone can see that we wait.
  const wait = interruptibleWait(verdict.delayMs);
  o.log.warn(
    {
      uncleanEnds: verdict.uncleanInWindow,
      windowSeconds: secs(o.policy.windowMs),
      trips: record.trips,
      delaySeconds: secs(verdict.delayMs),
      retryAt: new Date(waitingUntil).toISOString(),
    },
    `crash loop: ${verdict.uncleanInWindow} unclean ends within ${secs(o.policy.windowMs)} s; breaker open, waiting ${secs(verdict.delayMs)} s before booting`,
  );
  try {
    writeStatusAtomic(o.statusFile, {
      state: 'crashLoopWait',
      since: new Date(now()).toISOString(),
      pid: process.pid,
      version: o.version,
      capabilities: [],
      breaker: guard.status(),
    });
  } catch (err) {
    o.log.warn({ err }, 'could not write status.json');
  }
  const signal = await wait;
  waitingUntil = undefined;
  if (signal) {
    o.log.info({ signal }, 'shutdown requested while the crash-loop breaker waits');
    await save(onWaitInterrupted(record));
    guard.exitCode = 0;
    return guard;
  }
  o.log.info({ trips: record.trips }, 'crash-loop wait over: booting (trial run)');
  return guard;
}

/** Resolves after `ms`, or with the signal's name at the first SIGTERM/SIGINT. */
function interruptibleWait(ms: number): Promise<NodeJS.Signals | undefined> {
  return new Promise((resolve) => {
    const finish = (signal?: NodeJS.Signals): void => {
      clearTimeout(timer);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    const onSignal = (signal: NodeJS.Signals): void => finish(signal);
    const timer = setTimeout(() => finish(), ms);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
