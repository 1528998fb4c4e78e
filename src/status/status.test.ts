// status.json through its schema: the state is one of the closed union's names (a file naming any
// other is refused as malformed), and the human form says what the state means.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STATE_MEANING } from '../machine/states.ts';
import { type AgentStatus, formatStatus, readStatus, writeStatusAtomic } from './status.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'clawdie-status-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const status: AgentStatus = {
  state: 'crashLoopWait',
  since: '2026-01-01T00:00:00.000Z',
  pid: 42,
  version: '1.2.3',
  capabilities: [],
  breaker: { state: 'open', uncleanEnds: 5, trips: 1, retryAt: '2026-01-01T00:01:00.000Z' },
};

describe('status.json', () => {
  it('round-trips a status and prints what its state means', () => {
    const file = path.join(dir, 'status.json');
    writeStatusAtomic(file, status);
    const r = readStatus(file);
    expect(r).toEqual({ ok: true, status });
    expect(formatStatus(status).split('\n')[0]).toBe(
      `state:          crashLoopWait (since 2026-01-01T00:00:00.000Z): ${STATE_MEANING.crashLoopWait}`,
    );
  });

  it('refuses a state outside the closed union', () => {
    const file = path.join(dir, 'status.json');
    writeFileSync(file, JSON.stringify({ ...status, state: 'crashloopwait' }));
    expect(readStatus(file)).toEqual({ ok: false, reason: `status file ${file} is malformed` });
  });
});
