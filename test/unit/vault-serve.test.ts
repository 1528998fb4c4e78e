// startServe's calls against a fake `bw serve` on its Unix socket (test/fixtures/fake-bw): every
// call opens its own connection, so no call writes on a kept-alive connection that bw serve may
// have closed meanwhile (its keep-alive timeout racing a starved host process: EPIPE).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startServe } from '../../host-helper/vault/serve.ts';

const FAKE = fileURLToPath(new URL('../fixtures/fake-bw/serve.js', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('startServe', () => {
  it('sends each call over a fresh connection (none reused after bw serve may have closed it)', async () => {
    const appdataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-serve-'));
    dirs.push(appdataDir);
    const socketDir = path.join(appdataDir, 'sock');
    fs.mkdirSync(socketDir, { mode: 0o700 });
    const serve = await startServe({ bin: FAKE, appdataDir, timeoutMs: 20_000 }, socketDir);
    try {
      const seen: unknown[] = [];
      for (let i = 0; i < 4; i += 1) seen.push((await serve.call('GET', '/status')).data);
      expect(seen).toEqual([1, 2, 3, 4].map((connections) => ({ connections })));
    } finally {
      await serve.stop();
    }
  });
});
