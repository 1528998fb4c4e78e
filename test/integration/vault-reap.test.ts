// What a hard-killed vault session leaves running is reaped by the next lock holder (the bw lock
// dies with its holder at once, its detached bw children do not): host-helper/vault/appdata.ts,
// with real detached processes standing in for bw. A recorded pid that is no longer one of our bw
// processes (reused by something else) is left alone.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareAppdata, reapLeftovers, recordChild } from '../../host-helper/vault/appdata.ts';

const started: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A detached process (own group, like every bw child) whose argv may carry bw's --nointeraction. */
function detached(marker: boolean): { child: ChildProcess; closed: Promise<unknown> } {
  const args = ['-e', 'setInterval(() => {}, 1000)', ...(marker ? ['status', '--nointeraction'] : [])];
  const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore' });
  started.push(child);
  return { child, closed: new Promise((r) => child.once('close', r)) };
}

describe('reaping after a killed vault session', () => {
  it('kills the recorded bw children still running and forgets them; leaves a reused pid alone', async () => {
    const appdata = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-reap-'));
    dirs.push(appdata);
    prepareAppdata(appdata);
    const orphan = detached(true);
    const stranger = detached(false);
    recordChild(appdata, orphan.child.pid!);
    recordChild(appdata, stranger.child.pid!);
    const files = fs.readdirSync(appdata).sort();
    expect(files).toEqual(
      [`clawdie-bw-${orphan.child.pid}.pid`, `clawdie-bw-${stranger.child.pid}.pid`].sort(),
    );
    for (const f of files) expect(fs.statSync(path.join(appdata, f)).mode & 0o777).toBe(0o600);
    reapLeftovers(appdata);
    await orphan.closed;
    expect(orphan.child.signalCode).toBe('SIGKILL');
    expect(stranger.child.exitCode === null && stranger.child.signalCode === null).toBe(true);
    expect(fs.readdirSync(appdata)).toEqual([]);
  });

  it('a child that ended normally forgets itself', async () => {
    const appdata = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-reap-'));
    dirs.push(appdata);
    const c = detached(true);
    c.child.once('close', recordChild(appdata, c.child.pid!));
    expect(fs.readdirSync(appdata)).toHaveLength(1);
    c.child.kill('SIGTERM');
    await c.closed;
    await new Promise((r) => setImmediate(r));
    expect(fs.readdirSync(appdata)).toEqual([]);
  });
});
