// SIGHUP reloads the hive's certificate and key (issue 19): the new pair is read and checked like at
// start, then handed to the listener with setSecureContext, which applies to new handshakes only, so
// open connections (parked long-polls) carry on undisturbed. A pair that fails the checks leaves the
// previous one serving and logs one line. In: the TLS server, the two paths, the logger; out: a stop
// function that removes the signal handler.
import type { Server } from 'node:https';
import type { Logger } from '../../../src/log.ts';
import { loadTlsPair } from './pair.ts';

export function reloadOnSighup(
  server: Server,
  files: { cert: string; key: string },
  log: Logger,
): () => void {
  let running: Promise<void> | null = null;
  let again = false;
  const reload = async (): Promise<void> => {
    do {
      again = false;
      try {
        const pair = await loadTlsPair(files.cert, files.key);
        server.setSecureContext({ cert: pair.cert, key: pair.key });
        log.info({ tls: pair.info }, 'TLS certificate reloaded');
      } catch (err) {
        log.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'TLS reload refused; the previous certificate stays in use',
        );
      }
    } while (again);
  };
  const onHup = (): void => {
    // Two signals close together: one more reload after the current one, never two at once.
    if (running) {
      again = true;
      return;
    }
    running = reload().finally(() => {
      running = null;
    });
  };
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}
