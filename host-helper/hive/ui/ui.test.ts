// The live view's pure parts: one-time codes and sessions (time injected), the activity ring, and the
// snapshot the page renders (no gone agents, durations, lanes marked).
import { describe, expect, it } from 'vitest';
import { Activity, BUCKET_SECONDS, BUCKETS } from './activity.ts';
import { CODE_SECONDS, SESSION_SECONDS, UiSessions } from './sessions.ts';
import { buildSnapshot } from './snapshot.ts';

describe('UiSessions', () => {
  it('trades a code once, within its minute, for a session that ends', () => {
    let now = 1_000_000;
    const s = new UiSessions(() => now);
    const { code } = s.issueCode();
    expect(code).toMatch(/^[0-9a-f]{64}$/);
    const session = s.redeemCode(code);
    expect(session).not.toBeNull();
    expect(s.redeemCode(code)).toBeNull();
    expect(s.valid(session!.token)).toBe(true);
    expect(s.valid(`${session!.token}x`)).toBe(false);
    expect(s.valid(null)).toBe(false);
    const late = s.issueCode().code;
    now += CODE_SECONDS * 1000;
    expect(s.redeemCode(late)).toBeNull();
    now += SESSION_SECONDS * 1000;
    expect(s.valid(session!.token)).toBe(false);
  });

  it('keeps a bounded number of codes: a flood pushes out the oldest', () => {
    const s = new UiSessions(() => 0);
    const first = s.issueCode().code;
    for (let i = 0; i < 300; i++) s.issueCode();
    expect(s.redeemCode(first)).toBeNull();
  });
});

describe('Activity', () => {
  it('counts per 10 s bucket and forgets what is older than the window', () => {
    let now = 0;
    const a = new Activity(() => now);
    const t = { tenant: 'acme', capability: 'echo' };
    a.submitted(t);
    a.finished(t, 'succeeded');
    now += BUCKET_SECONDS * 1000;
    a.finished(t, 'failed');
    a.leasesEnded([{ ...t, taskId: 'x', state: 'expired' }], 'lease_expired');
    a.leasesEnded([{ ...t, taskId: 'y', state: 'queued' }], 'agent_lost');
    const s = a.series();
    expect(s).toHaveLength(BUCKETS);
    expect(s.at(-2)).toMatchObject({ submitted: 1, succeeded: 1, failed: 0 });
    expect(s.at(-1)).toMatchObject({ failed: 1, expired: 1, t: BUCKET_SECONDS * 1000 });
    now += BUCKETS * BUCKET_SECONDS * 1000;
    expect(a.series().every((b) => b.submitted + b.succeeded + b.failed + b.expired === 0)).toBe(true);
  });
});

describe('buildSnapshot', () => {
  it('groups agents by tenant, marks lanes, drops gone agents, and measures tasks', () => {
    const agent = (agentId: string, tenant: string, shared: boolean, state: 'live' | 'gone') => ({
      agentId,
      tenant,
      shared,
      state,
      capabilities: ['echo'],
      identityHash: 'a',
      version: '1',
      os: 'x',
      lastHeartbeat: 5000,
    });
    const s = buildSnapshot({
      now: 10_000,
      parkedPolls: 3,
      agents: [
        agent('b-1', 'lane', true, 'live'),
        agent('a-1', 'acme', false, 'live'),
        agent('a-0', 'acme', false, 'gone'),
      ],
      queue: [{ capability: 'echo', depth: 2, oldestCreatedAt: 4000 }],
      activity: [],
      recent: [
        {
          taskId: 't2',
          tenant: 'acme',
          capability: 'echo',
          state: 'queued',
          createdAt: 9000,
          updatedAt: 9000,
        },
        {
          taskId: 't1',
          tenant: 'acme',
          capability: 'echo',
          state: 'succeeded',
          createdAt: 1000,
          updatedAt: 1500,
        },
      ],
    });
    expect(s.tenants.map((t) => [t.tenant, t.kind, t.agents.map((a) => a.agentId)])).toEqual([
      ['acme', 'tenant', ['a-1']],
      ['lane', 'lane', ['b-1']],
    ]);
    expect(s.queue).toEqual([{ capability: 'echo', depth: 2, oldestAgeSeconds: 6 }]);
    expect(s.recent.map((t) => t.durationMs)).toEqual([1000, 500]);
    expect(JSON.stringify(s)).not.toMatch(/input|output|token/);
  });
});
