// clawdie-agent as a real process against the real hive coordinator process (loopback): cold start,
// an env file that appears later, refused env files (one line per reason), token rotation without a
// restart, a revoked token (401) or another tenant's (403) sending it back to awaiting secrets;
// status and check commands.
import { mkdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.ts';
import {
  API_KEY,
  adminAgents,
  envPath,
  envText,
  readStatus,
  runCli,
  submit,
  waitTask,
  waitUntil,
  writeEnv,
} from './agent-process.ts';
import { agentSuite } from './agent-suite.ts';

const suite = agentSuite({ heartbeatSeconds: 1, pollSeconds: 2 });
const { root, launch } = suite;
const mint = (tenant = 'acme'): Promise<string> => suite.mint(tenant);

describe('clawdie-agent with its env file', () => {
  it('cold start with the env present: registers, serves echo, status and check report it', async () => {
    const token = await mint();
    const r = root();
    writeEnv(r, envText({ url: suite.hive.url, token }));
    const a = launch(r);
    const st = await a.waitState('running');
    expect(st.capabilities).toContain('echo');
    expect(st.identityHash).toMatch(/^[a-f0-9]{64}$/);
    const listed = (await adminAgents(suite.hive.url, suite.hive.adminToken)).find(
      (x) => x.agentId === st.agentId,
    );
    expect(listed?.state).toBe('live');
    const id = await submit(suite.hive.url, token, 'echo', { hello: 'jail' });
    const done = await waitTask(suite.hive.url, token, id, 'succeeded');
    expect(done.result).toEqual({ status: 'ok', output: { hello: 'jail' } });

    const status = await runCli(['status', '--root', r, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'running', agentId: st.agentId });
    const human = await runCli(['status', '--root', r]);
    expect(human.stdout).toContain(`identity:       ${st.identityHash}`);
    const check = await runCli(['check', '--root', r]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain('ok   env:');
    suite.checkForSecrets(status.stdout, human.stdout, check.stdout, check.stderr);
  });

  it('refuses to start with an unusable soul: exit 1 and one clear line', async () => {
    const r = root();
    mkdirSync(path.join(r, 'var/db/clawdie/soul'), { recursive: true });
    writeFileSync(path.join(r, 'var/db/clawdie/soul/SOUL.md'), 'x'.repeat(70_000));
    const a = launch(r);
    expect(await a.exited).toEqual({ code: 1, signal: null });
    const stderr = a
      .output()
      .split('\n')
      .filter((l) => l.startsWith('clawdie-agent:'));
    expect(stderr).toEqual(['clawdie-agent: soul file agent/SOUL.md is 70000 bytes; the limit is 65536']);
  });

  it('waits for an env file that appears later, then registers without a restart', async () => {
    const token = await mint();
    const r = root();
    const a = launch(r);
    await a.waitState('awaitingSecrets');
    await a.waitLog((l) => String(l.msg).includes('does not exist yet'), 'missing env logged');
    writeEnv(r, envText({ url: suite.hive.url, token }));
    await a.waitState('running');
  });

  it('refuses bad env files with one line naming the problem, and accepts the fixed file', async () => {
    const token = await mint();
    const r = root();
    const good = envText({ url: suite.hive.url, token });
    const a = launch(r);
    await a.waitState('awaitingSecrets');
    const cases: Array<[string, () => void, string]> = [
      [
        'symlink',
        () => {
          // Named as an env file: it holds this tenant's values, like the .env (leak-scan policy).
          writeFileSync(path.join(r, '.env.target'), good, { mode: 0o600 });
          symlinkSync(path.join(r, '.env.target'), envPath(r));
        },
        'is a symbolic link',
      ],
      ['0644', () => writeEnv(r, good, { mode: 0o644 }), 'has mode 0644; it must be 0600'],
      ['malformed', () => writeEnv(r, 'this is not dotenv\n'), 'is invalid: holds no KEY=value lines'],
      [
        'missing keys',
        () =>
          writeEnv(
            r,
            `CLAWDIE_TENANT=acme\nCLAWDIE_HIVE_URL=${suite.hive.url}\nCLAWDIE_HIVE_TOKEN=${token}\n`,
          ),
        'is invalid: OPENROUTER_API_KEY: one of OPENROUTER_API_KEY or DEEPSEEK_API_KEY is required',
      ],
    ];
    if (process.getuid?.() === 0) {
      cases.push(['wrong owner', () => writeEnv(r, good, { uid: 4242 }), 'is owned by uid 4242']);
    }
    for (const [name, make, reason] of cases) {
      try {
        unlinkSync(envPath(r));
      } catch {}
      make();
      await a.waitLog((l) => l.level === 40 && String(l.msg).includes(reason), `refusal: ${name}`);
      const check = await runCli(['check', '--root', r]);
      expect(check.code, name).toBe(1);
      expect(check.stdout, name).toContain(reason);
    }
    const logged = a
      .output()
      .split('\n')
      .filter((l) => l.includes('is a symbolic link'));
    expect(logged).toHaveLength(1);
    expect(a.output()).not.toContain('registered with the hive');
    unlinkSync(envPath(r));
    writeEnv(r, good);
    await a.waitState('running');
  });

  it('applies rotated secrets without a restart, and re-awaits secrets after a 401', async () => {
    const first = await mint('rota');
    const r = root();
    writeEnv(r, envText({ url: suite.hive.url, token: first, tenant: 'rota' }));
    const a = launch(r);
    const st = await a.waitState('running');
    const registrations = (): number =>
      a
        .output()
        .split('\n')
        .filter((l) => l.includes('registered with the hive')).length;

    // A rotated API key is applied in place: no re-registration, no restart.
    writeEnv(
      r,
      envText({ url: suite.hive.url, token: first, tenant: 'rota' }).replace(API_KEY, `${API_KEY}-rotated`),
    );
    await a.waitLog((l) => l.msg === 'env rotated; applied', 'rotation applied');
    expect(registrations()).toBe(1);

    // A rotated token: the host mints (the old token stops working at once, so the waiting
    // long-poll may see 401 first) and rewrites the .env; the same process carries on with it.
    const second = await mint('rota');
    writeEnv(r, envText({ url: suite.hive.url, token: second, tenant: 'rota' }));
    await waitUntil(async () => {
      const id = await submit(suite.hive.url, second, 'echo', 'after rotation');
      return (await waitTask(suite.hive.url, second, id, 'succeeded')) ? true : undefined;
    }, 'served with the rotated token');
    expect(a.child.exitCode).toBeNull();
    expect(readStatus(r)).toMatchObject({ state: 'running', agentId: st.agentId });

    // Revocation without a new .env: the next request gets 401 → back to awaiting secrets.
    const third = await mint('rota');
    await a.waitState('awaitingSecrets');
    await a.waitLog((l) => String(l.msg).includes('hive refused the token'), '401 logged');
    writeEnv(r, envText({ url: suite.hive.url, token: third, tenant: 'rota' }));
    const again = await a.waitState('running');
    expect(again.agentId).toBe(st.agentId);
    const id2 = await submit(suite.hive.url, third, 'echo', 'after 401');
    await waitTask(suite.hive.url, third, id2, 'succeeded');
  });

  it('a token of another tenant (403 at registration) waits for a changed .env: no exit, status says why', async () => {
    // The 403 sent the agent to `failed`, exit 1; it is a property of the .env (DESIGN §3).
    const foreign = await mint('owner');
    const r = root();
    writeEnv(r, envText({ url: suite.hive.url, token: foreign, tenant: 'mixup' }));
    const a = launch(r);
    await a.waitLog((l) => String(l.msg).includes('waiting for a changed .env'), 'refusal logged');
    await waitUntil(() => readStatus(r)?.state === 'awaitingSecrets', 'back in awaitingSecrets');
    expect(readStatus(r)?.lastError).toBe('hive register answered 403 (forbidden, field tenant)');
    const human = await runCli(['status', '--root', r]);
    expect(human.stdout).toContain('last error:     hive register answered 403 (forbidden, field tenant)');
    expect(a.child.exitCode).toBeNull();
    // The same file is not sent again; a changed one (the tenant's own token) registers.
    writeEnv(r, envText({ url: suite.hive.url, token: await mint('mixup'), tenant: 'mixup' }));
    await a.waitState('running');
    const refusals = a
      .output()
      .split('\n')
      .filter((l) => l.includes('waiting for a changed .env'));
    expect(refusals).toHaveLength(1);
    const registrations = a
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"registered with the hive"'));
    expect(registrations).toHaveLength(1);
  });

  it('an invalid .env written while it backs off keeps the last valid secrets: no exit, no credential-less request', async () => {
    // Issue 15, defect 3: the invalid file used to clear the secrets; the next retry registered
    // without a token and the agent ended `failed` ("no hive token configured"), exit 1.
    const token = await mint('backoff');
    const r = root();
    const closed = `http://127.0.0.1:${await freePort()}`;
    writeEnv(r, envText({ url: closed, token, tenant: 'backoff' }));
    const a = launch(r, { env: { CLAWDIE_BACKOFF_MAX_SECONDS: '0.2' } });
    await a.waitState('backoff');
    writeEnv(r, envText({ url: suite.hive.url, token, tenant: 'Not_A_Tenant' }));
    await a.waitLog((l) => l.level === 40 && String(l.msg).includes('is invalid'), 'invalid env refused');
    const lines = (): string[] => a.output().split('\n');
    const refusedAt = lines().findIndex((l) => l.includes('is invalid'));
    // It goes on retrying the hive of the last valid file (the closed port), never without a token.
    await waitUntil(() => {
      if (a.child.exitCode !== null) throw new Error(`agent exited ${a.child.exitCode}:\n${a.output()}`);
      const later = lines().slice(refusedAt);
      return later.filter((l) => l.includes('ECONNREFUSED')).length >= 3 ? true : undefined;
    }, 'three more refused connections to the last valid hive URL');
    expect(a.output()).not.toContain('no hive token configured');
    expect(['backoff', 'registering']).toContain(readStatus(r)?.state);
    // A valid file again (the real hive): registers in the same process.
    writeEnv(r, envText({ url: suite.hive.url, token, tenant: 'backoff' }));
    await a.waitState('running');
    a.child.kill('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
  });
});
