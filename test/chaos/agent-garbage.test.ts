// Bug witness (found by the chaos suite): an agent registering through a proxy that answers 200
// with garbage instead of JSON went to `failed` and exited 1, as if its configuration were broken;
// a malformed answer is the hive's (or the path's) fault and is retried with backoff like a 5xx.
import { afterAll, describe, expect, it } from 'vitest';
import { envText, makeRoot, removeRoot, startAgent, writeEnv } from '../integration/agent-process.ts';
import { type HiveProcess, startHive } from '../support/hive-process.ts';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';

let hive: HiveProcess | undefined;
let proxy: FaultProxy | undefined;
const roots: string[] = [];
const kills: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const k of kills) await k();
  await proxy?.close();
  await hive?.stop();
  for (const r of roots) removeRoot(r);
});

describe('agent registering through garbage answers', () => {
  it('backs off and registers once the hive answers JSON again, never exits', async () => {
    hive = await startHive({ heartbeatSeconds: 1, pollSeconds: 2 });
    const u = new URL(hive.url);
    proxy = await startFaultProxy({ host: u.hostname, port: Number(u.port) });
    proxy.setMode({ kind: 'garbage' });
    const root = makeRoot();
    roots.push(root);
    writeEnv(root, envText({ url: proxy.url, token: await hive.mintToken('garbage'), tenant: 'garbage' }));
    const agent = startAgent(root, { env: { CLAWDIE_BACKOFF_MAX_SECONDS: '0.5' } });
    kills.push(() => agent.kill());
    await agent.waitLog((l) => l.msg === 'backing off before registering again', 'backing off');
    await new Promise((r) => setTimeout(r, 1_500)); // several register attempts, all garbage
    expect(agent.child.exitCode).toBeNull();
    proxy.setMode({ kind: 'pass' });
    await agent.waitState('running', 20_000);
  }, 60_000);
});
