// `npm start` (= `node host-helper/cli.ts demo`) as a real process, offline (no provider key in its
// environment): the whole chain runs and exits 0, printing each step — hive, fake provider, vault,
// jails, agents, register-tenant, one provision session, registration, the tenant's chat asked for
// a chart whose model calls the bar-chart tool, which borrows image-render from the lane (each tool
// step printed, the real PNG of the answer's artifact written to the state dir) and a clean stop —
// and prints no token or key. Ctrl-C mid-way exits 130 with no child left behind. The
// real-provider path (a key in the environment) is not run here.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'dotenv';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nodeBinary, REPO_ROOT } from '../support/hive-process.ts';

let base: string;

beforeAll(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-demo-e2e-'));
});

afterAll(() => {
  // The demo leaves its jails' soul layers read-only (0555): make them removable first.
  if (base) fs.rmSync(base, { recursive: true, force: true, maxRetries: 2 });
});

interface Demo {
  code: number | null;
  stdout: string;
  stderr: string;
}

function demo(dir: string, onStdout?: (all: string, kill: () => void) => void): Promise<Demo> {
  return new Promise((resolve) => {
    const child = spawn(nodeBinary(), ['host-helper/cli.ts', 'demo', '--dir', dir], {
      cwd: REPO_ROOT,
      // What npm start gets, minus any provider key: the offline path.
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      onStdout?.(stdout, () => child.kill('SIGINT'));
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Pids of live processes whose command line mentions `needle`. */
function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(needle)) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

function chmodTree(p: string): void {
  const st = fs.lstatSync(p);
  if (!st.isDirectory()) return;
  fs.chmodSync(p, 0o700);
  for (const e of fs.readdirSync(p)) chmodTree(path.join(p, e));
}

it('runs the whole chain offline, step by step, and exits 0 without printing a secret', async () => {
  const dir = path.join(base, 'run');
  const r = await demo(dir);
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  const lines = r.stdout;
  for (const re of [
    /chat provider: the offline fake provider/,
    /hive coordinator \.+ http:\/\/127\.0\.0\.1:\d+/,
    /LLM provider \.+ offline fake at http:\/\/127\.0\.0\.1:\d+/,
    /vault test server \.+ https:\/\/127\.0\.0\.1:\d+/,
    /agents start \.+ .*awaiting their \.env/,
    /register-tenant \.+ acme \(private\), lane-render \(shared lane\)/,
    /provision \(1 bw session\).* acme: \.env written \(0600, active\), lane-render: \.env written \(0600, active\)/,
    /agents register \.+ acme: bar-chart, chat, echo {2}\| {2}lane-render: echo, image-render/,
    /chat task \.+ succeeded, answered by acme's agent acme-\w+ after 1 tool step\(s\)/,
    /acme asked: Chart last week's tasks per agent: acme 7/,
    /tool step 1: bar-chart ran in acme's own agent, ok, \d+\.\ds; it borrowed image-render, rendered by lane-render's agent lane-render-/,
    /the agent: fake answer from 1 tool result\(s\): bar-chart → \[binary image\/png 480×288, \d+ bytes: not shown to you/,
    /PNG 480×288, \d+ bytes → .*chart\.png/,
    /stop \.+ agents drained and deregistered/,
    /clawdie demo: done in \d+\.\ds/,
  ])
    expect(lines).toMatch(re);
  // Every step line carries its time since the start and its own duration.
  expect(lines.match(/^\[\s*\d+\.\ds\] .* \(\d+\.\ds\)$/gm)?.length).toBeGreaterThanOrEqual(10);

  const png = fs.readFileSync(path.join(dir, 'chart.png'));
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([480, 288]);

  // Nothing secret on the console: not the admin token, not a tenant's hive token or provider key.
  const secrets = [fs.readFileSync(path.join(dir, 'hive/admin.token'), 'utf8').trim()];
  for (const t of ['acme', 'lane-render']) {
    const envFile = path.join(dir, 'jails', t, 'root/home/clawdie/.env');
    expect(fs.statSync(envFile).mode & 0o777).toBe(0o600);
    const env = parse(fs.readFileSync(envFile));
    secrets.push(env.CLAWDIE_HIVE_TOKEN ?? 'missing', env.OPENROUTER_API_KEY ?? 'missing');
  }
  for (const s of secrets) {
    expect(s.length).toBeGreaterThan(8);
    expect(r.stdout.includes(s) || r.stderr.includes(s)).toBe(false);
  }
  expect(processesMentioning(dir)).toEqual([]);
  chmodTree(dir);
}, 150_000);

it('Ctrl-C mid-way stops every child and exits 130', async () => {
  const dir = path.join(base, 'interrupted');
  let sent = false;
  const r = await demo(dir, (all, kill) => {
    // Interrupt while bw is working and both agents wait for their .env.
    if (!sent && /provision \(1 bw session\)/.test(all)) {
      sent = true;
      kill();
    }
  });
  expect(sent).toBe(true);
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(130);
  expect(r.stdout).toMatch(/interrupted; stopping everything/);
  expect(processesMentioning(dir)).toEqual([]);
  chmodTree(dir);
}, 90_000);
