// `clawdie-host hive serve` as a real process: admin token sources and their refusals, flag
// validation (exit 2, one line), the URL as first stdout line, clean shutdown on SIGTERM/SIGINT
// (open long-polls answered 204, exit 0), and no token ever in the output.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, newAgent, newTenant, poll } from '../conformance/client.ts';
import { nodeBinary, REPO_ROOT } from '../support/hive-process.ts';
import { pathOnlyEnv, type Run, runToEnd } from '../support/run-to-end.ts';

let dir: string;
const TOKEN = `${'T'.repeat(20)}admin-secret-value-0123456789`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clawdie-hive-cli-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const runServe = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
  runToEnd(nodeBinary(), ['host-helper/cli.ts', 'hive', ...args], { cwd: REPO_ROOT, env: pathOnlyEnv(env) });

/** Starts a server and returns its URL, the child and a function that collects all its output. */
async function serve(args: string[], env: Record<string, string>) {
  const child = spawn(nodeBinary(), ['host-helper/cli.ts', 'hive', 'serve', ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let out = '';
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', () => reject(new Error(`exited early: ${out}`)));
  });
  lines.on('line', (l) => {
    out += `${l}\n`;
  });
  return { child, url, output: () => out };
}

describe('hive serve: refusals', () => {
  it('refuses to start without an admin token: exit 2, one line', async () => {
    const r = await runServe(['serve', '--listen', '127.0.0.1:0', '--db', join(dir, 'a.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('CLAWDIE_HIVE_ADMIN_TOKEN');
    expect(r.stdout).toBe('');
  });

  it('refuses a token file readable by group or others, and a short token', async () => {
    const file = join(dir, 'admin.token');
    await writeFile(file, `${TOKEN}\n`, { mode: 0o644 });
    await chmod(file, 0o644);
    const r = await runServe([
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--db',
      join(dir, 'a.db'),
      '--admin-token-file',
      file,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('group/others');
    expect(r.stderr).not.toContain(TOKEN);
    const short = await runServe(['serve', '--listen', '127.0.0.1:0', '--db', join(dir, 'a.db')], {
      CLAWDIE_HIVE_ADMIN_TOKEN: 'short-secret',
    });
    expect(short.code).toBe(2);
    expect(short.stderr).not.toContain('short-secret');
  });

  it('validates flags with one-line usage errors (exit 2)', async () => {
    const env = { CLAWDIE_HIVE_ADMIN_TOKEN: TOKEN };
    const cases = [
      ['serve', '--db', join(dir, 'a.db')],
      ['serve', '--listen', 'nowhere', '--db', join(dir, 'a.db')],
      ['serve', '--listen', '127.0.0.1:99999', '--db', join(dir, 'a.db')],
      ['serve', '--listen', '127.0.0.1:0', '--db', join(dir, 'a.db'), '--lease-seconds', '-1'],
      ['serve', '--listen', '127.0.0.1:0', '--db', join(dir, 'a.db'), '--bogus'],
      ['serve', '--listen', '127.0.0.1:0', '--db', join(dir, 'a.db'), 'stray-positional-secret'],
      [
        'serve',
        '--listen',
        '127.0.0.1:0',
        '--db',
        join(dir, 'a.db'),
        '--public-url',
        'ftp://hive.example.org',
      ],
      ['frobnicate'],
    ];
    // Side by side: each is a whole node process loading the CLI from source (seconds under load).
    const runs = await Promise.all(cases.map((args) => runServe(args, env)));
    for (const [i, r] of runs.entries()) {
      expect(r.code, cases[i]?.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).not.toContain('stray-positional-secret');
    }
  }, 60_000);
});

describe('hive serve: running', () => {
  it('reads the token from a 0600 file, prints the URL first, and stops cleanly on SIGTERM', async () => {
    const file = join(dir, 'ok.token');
    await writeFile(file, `${TOKEN}\n`, { mode: 0o600 });
    const s = await serve(
      ['--listen', '127.0.0.1:0', '--db', join(dir, 'b.db'), '--admin-token-file', file],
      {},
    );
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const t = { url: s.url, adminToken: TOKEN };
    const a = await newTenant(t);
    const agentId = await newAgent(t, a, ['echo']);
    const waiting = poll(t, a.token, agentId, 30);
    await new Promise((r) => setTimeout(r, 300));
    const exited = once(s.child, 'exit');
    s.child.kill('SIGTERM');
    expect((await waiting).status).toBe(204);
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    const out = s.output();
    // Logs are JSON lines after the URL; neither the admin nor a tenant token ever appears.
    for (const line of out.split('\n').filter((l) => l.startsWith('{'))) JSON.parse(line);
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain(a.token);
  });

  it('stops cleanly on SIGINT too, and answers while running', async () => {
    const s = await serve(['--listen', '127.0.0.1:0', '--db', join(dir, 'c.db'), '--poll-seconds', '1'], {
      CLAWDIE_HIVE_ADMIN_TOKEN: TOKEN,
    });
    const r = await call({ url: s.url, adminToken: TOKEN }, 'GET', '/v1/admin/agents', { token: TOKEN });
    expect(r.status).toBe(200);
    const exited = once(s.child, 'exit');
    s.child.kill('SIGINT');
    expect(((await exited) as [number | null])[0]).toBe(0);
  });
});
