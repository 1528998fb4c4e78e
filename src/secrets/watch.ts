// Watches the env file without spending CPU while nothing happens: fs.watch on its directory (the
// host writes a temp file and renames it in) plus a slow stat poll for filesystems where watching
// fails. Reports a verdict only when it differs from the previous one (content or reason changed).
import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import { checkEnvFile, type EnvVerdict } from './accept.ts';

export interface WatchOptions {
  file: string;
  uid: number;
  /** Fallback stat poll; slow on purpose (fs.watch does the real work). */
  pollMs: number;
  onVerdict: (verdict: EnvVerdict) => void;
}

const verdictKey = (v: EnvVerdict): string =>
  v.status === 'valid' ? `valid:${v.fingerprint}` : `${v.status}:${v.reason}`;

/** Starts watching; the first verdict is reported at once. Returns the stop function. */
export function watchEnvFile(options: WatchOptions): () => void {
  const dir = path.dirname(options.file);
  const base = path.basename(options.file);
  let watcher: FSWatcher | undefined;
  let stopped = false;
  let running = false;
  let dirty = false;
  let lastKey: string | undefined;
  let pending: NodeJS.Immediate | undefined;

  const check = async (): Promise<void> => {
    if (running) {
      dirty = true;
      return;
    }
    running = true;
    try {
      do {
        dirty = false;
        const verdict = await checkEnvFile(options.file, options.uid);
        if (stopped) return;
        const key = verdictKey(verdict);
        if (key !== lastKey) {
          lastKey = key;
          options.onVerdict(verdict);
        }
      } while (dirty && !stopped);
    } finally {
      running = false;
    }
  };

  const schedule = (): void => {
    if (stopped || pending) return;
    pending = setImmediate(() => {
      pending = undefined;
      void check();
    });
  };

  // While the directory does not exist yet, watch its nearest existing ancestor and re-arm on any
  // change there, so a home directory created later is noticed without waiting for the poll.
  let watching = '';
  const rearm = (): void => {
    watcher?.close();
    watcher = undefined;
    startWatching();
    schedule();
  };
  const startWatching = (): void => {
    if (watcher || stopped) return;
    for (let target = dir; ; target = path.dirname(target)) {
      try {
        watching = target;
        watcher = watch(target, { persistent: false }, (_event, name) => {
          if (watching !== dir) return rearm();
          if (name === null || name === base) schedule();
        });
        // The directory went away or was replaced: re-arm (falls back to an ancestor).
        watcher.on('error', rearm);
        return;
      } catch {
        watcher = undefined;
        if (path.dirname(target) === target) return; // nothing watchable: the poll keeps looking
      }
    }
  };

  startWatching();
  const poll = setInterval(() => {
    if (watching !== dir) rearm();
    else schedule();
  }, options.pollMs);
  schedule();

  return () => {
    stopped = true;
    clearInterval(poll);
    if (pending) clearImmediate(pending);
    watcher?.close();
    watcher = undefined;
  };
}
