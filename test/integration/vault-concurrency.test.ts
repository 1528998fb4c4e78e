// Two processes use the same bw appdata dir at once: their sessions are serialized by the lock (no
// bw process of one runs while the other's session is open) and both get the right values. While
// they run, /proc/<pid>/cmdline of every bw child is sampled: no secret appears in any argv, nor in
// the processes' log lines. The test server runs as its own process here (main.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestVault, type TestVault } from '../../host-helper/demo/services/test-vault.ts';
import type { BwProcessEvent } from '../../host-helper/vault/index.ts';

const CLIENT = join(import.meta.dirname, '..', 'fixtures', 'vault-client.ts');
let tv: TestVault;

beforeAll(async () => {
  tv = await startTestVault({ realProcess: true });
});
afterAll(async () => {
  await tv?.close();
});

function run(child: ChildProcess): Promise<{ code: number | null; out: string }> {
  let out = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString('utf8');
  });
  child.stderr?.on('data', (b: Buffer) => {
    out += b.toString('utf8');
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out })));
}

/** cmdlines of running bw processes (bw.js in argv), read from /proc. */
function sampleBwArgv(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (argv.includes('bw.js')) found.push(argv);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

const digest = (pairs: [string, string][]): string =>
  createHash('sha256')
    .update(pairs.map(([n, v]) => `${n}=${v}`).join('\n'))
    .digest('hex');

describe('vault sessions from two processes', () => {
  it('are serialized, both correct, and no secret reaches argv or logs', async () => {
    const argvSamples = new Set<string>();
    const sampler = setInterval(() => {
      for (const a of sampleBwArgv()) argvSamples.add(a);
    }, 50);
    const start = (): ChildProcess =>
      spawn(process.execPath, [CLIENT, JSON.stringify(tv.config), 'acme', 'globex'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const [a, b] = await Promise.all([run(start()), run(start())]);
    clearInterval(sampler);
    expect([a.code, b.code], `${a.out}\n${b.out}`).toEqual([0, 0]);

    const parse = (out: string) => {
      const lines = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { bw?: BwProcessEvent; env?: Record<string, string> });
      return {
        bw: lines.flatMap((l) => (l.bw ? [l.bw] : [])),
        env: lines.find((l) => l.env)?.env,
      };
    };
    const pa = parse(a.out);
    const pb = parse(b.out);
    const expected = {
      acme: digest([
        ['CLAWDIE_MODEL', 'openrouter/test-model'],
        ['EXTRA', 'extra-value'],
        ['EXTRA_FLAG', 'on'],
        ['OPENROUTER_API_KEY', 'sk-or-test-acme-0001'],
      ]),
      globex: digest([['DEEPSEEK_API_KEY', 'sk-ds-test-globex-0002']]),
    };
    expect(pa.env).toEqual(expected);
    expect(pb.env).toEqual(expected);

    // serialized: every bw process of one session ends before any of the other's starts
    const [first, second] = (pa.bw[0]?.start ?? 0) < (pb.bw[0]?.start ?? 0) ? [pa.bw, pb.bw] : [pb.bw, pa.bw];
    expect(first.length).toBeGreaterThanOrEqual(4);
    expect(second.length).toBeGreaterThanOrEqual(4);
    const firstEnd = Math.max(...first.map((e) => e.end));
    const secondStart = Math.min(...second.map((e) => e.start));
    expect(firstEnd).toBeLessThanOrEqual(secondStart);
    // the second found a clean (logged-out) state: no leftover logout before its login
    expect(second.map((e) => e.command)).toEqual(['status', 'login', 'serve', 'logout']);

    // argv: bw children were seen (login and serve among them), none carries a secret
    const argv = [...argvSamples].join('\n');
    expect(argv).toContain(' login --apikey');
    expect(argv).toContain(' serve --hostname unix://');
    const logs = `${a.out}\n${b.out}`;
    expect(logs).toContain('"event":"vault.unlocked"');
    for (const secret of tv.secrets) {
      expect(argv).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  }, 240_000);
});
