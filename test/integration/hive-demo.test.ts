// `clawdie-host demo --serve` (the hive-only demo) as a real process: it starts the reference hive from a
// state dir with a 0600 admin token file, prints the URL and usage, serves, and exits 0 on SIGINT.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call } from '../conformance/client.ts';
import { nodeBinary, REPO_ROOT } from '../support/hive-process.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clawdie-demo-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function startDemo(): Promise<{ url: string; stdout: () => string; child: ReturnType<typeof spawn> }> {
  const child = spawn(nodeBinary(), ['host-helper/cli.ts', 'demo', '--serve', '--dir', dir], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const m = /Press Ctrl-C/.test(out) ? /URL\s+(http:\/\/\S+)/.exec(out) : null;
      if (m) resolve(m[1]!);
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => reject(new Error(`demo exited (${String(code)}): ${out}`)));
  });
  return { url, stdout: () => out, child };
}

it('serves a hive with a 0600 admin token file and stops cleanly on Ctrl-C', async () => {
  const demo = await startDemo();
  const tokenFile = join(dir, 'hive', 'admin.token');
  expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
  expect((await stat(dir)).mode & 0o777).toBe(0o700);
  const token = (await readFile(tokenFile, 'utf8')).trim();
  const header = join(dir, 'hive', 'admin.header');
  expect((await stat(header)).mode & 0o777).toBe(0o600);
  expect(await readFile(header, 'utf8')).toBe(`Authorization: Bearer ${token}\n`);
  expect(demo.stdout()).not.toContain(token);
  expect(demo.stdout()).toContain('hive serve --listen');
  const r = await call({ url: demo.url, adminToken: token }, 'GET', '/v1/admin/agents', { token });
  expect(r.status).toBe(200);
  const exited = once(demo.child, 'exit');
  demo.child.kill('SIGINT');
  expect(((await exited) as [number | null])[0]).toBe(0);

  // A second start reuses the same token and database.
  const again = await startDemo();
  expect((await readFile(tokenFile, 'utf8')).trim()).toBe(token);
  const exited2 = once(again.child, 'exit');
  again.child.kill('SIGTERM');
  expect(((await exited2) as [number | null])[0]).toBe(0);
  expect(await readFile(join(dir, 'hive', 'hive.log'), 'utf8')).not.toContain(token);
});
