// Tests of the run-wide leak scan: the scanner finds canaries planted in each kind of place (and
// only where they may not be), names place and kind but never the value; the worker hooks tee a
// child's output without changing what the test reads, record argv and environment secrets, and
// keep what a test removes. Canaries are random per run and the planted trees are removed through
// a child `rm -rf` (not kept by the graveyard), so the real run's own scan never meets them.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { commandLabel } from './child-capture.ts';
import { RUN_KEY, runLayout } from './layout.ts';
import { allowanceOf, countTokenShaped, isGeneratedEnv, isPureDotenv } from './policy.ts';
import { failureText, scanRun } from './run-scan.ts';

const planted: string[] = [];
afterAll(() => {
  for (const dir of planted) execFileSync('rm', ['-rf', dir]);
});

const canary = (prefix: string): string => `${prefix}-${randomBytes(12).toString('hex')}`;
const token = (): string => {
  for (;;) {
    const t = randomBytes(32).toString('base64url');
    if (countTokenShaped(t) === 1) return t;
  }
};

function plantedRun() {
  const layout = runLayout(fs.mkdtempSync(path.join(os.tmpdir(), 'leak-selftest-')));
  planted.push(layout.root);
  for (const d of [layout.tmp, layout.grave, layout.children, layout.registry])
    fs.mkdirSync(d, { recursive: true });
  return layout;
}

function write(file: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

describe('run-wide scan over a planted run directory', () => {
  it('learns the secrets from the registry, .env, bw.env, token files and the host store, and finds them only where they may not be', () => {
    const L = plantedRun();
    const admin = canary('admin');
    const tenantTok = token();
    const storeTok = canary('store-token');
    const apiKey = canary('sk-or');
    const bwPass = canary('bw-pass');
    const fixed = canary('fixed');
    const bridgeTok = canary('bridge-token');
    write(path.join(L.registry, '1.jsonl'), `${JSON.stringify({ kind: 'hive-admin', value: admin })}\n`);
    // Allowed places: they teach the scanner the secrets and hold them legitimately.
    const env = `CLAWDIE_TENANT=acme\nCLAWDIE_HIVE_TOKEN=${tenantTok}\nOPENROUTER_API_KEY=${apiKey}\n`;
    write(path.join(L.grave, '7-1/jails/acme/root/home/clawdie/.env'), env);
    write(path.join(L.tmp, 'v/bw.env'), `BW_CLIENTID=user.x\nBW_PASSWORD=${bwPass}\n`);
    write(path.join(L.tmp, 'v/bw-appdata/data.json'), `{"p":"${bwPass}"}`);
    write(path.join(L.tmp, 'h/hive-admin.token'), `${admin}\n`);
    write(path.join(L.tmp, 'b/acme.token'), `${bridgeTok}\n`);
    fs.mkdirSync(path.join(L.tmp, 'host'));
    const db = new DatabaseSync(path.join(L.tmp, 'host/tenants.db'));
    db.exec(
      'PRAGMA journal_mode=WAL; CREATE TABLE hive_tokens (tenant_id TEXT, token TEXT, minted_at TEXT);',
    );
    db.prepare('INSERT INTO hive_tokens VALUES (?, ?, ?)').run('acme', storeTok, 'now');
    // Leaks: a capture, a log left in the temp tree, a SQLite WAL, a removed file, a link, argv.
    write(path.join(L.children, '9-3-node.err'), `error: bad token ${tenantTok}\n`);
    write(path.join(L.children, '9-4-node.err'), `bridge: refused ${bridgeTok}\n`);
    write(path.join(L.tmp, 'agent/var/db/clawdie/status.json'), `{"lastError":"${apiKey}"}`);
    fs.mkdirSync(path.join(L.tmp, 'hive'));
    const leakyDb = new DatabaseSync(path.join(L.tmp, 'hive/hive.db'));
    leakyDb.exec('PRAGMA journal_mode=WAL; CREATE TABLE t (v TEXT);');
    leakyDb.prepare('INSERT INTO t VALUES (?)').run(storeTok);
    write(path.join(L.grave, '7-2/agent/exec.log'), `admin=${admin}`);
    fs.symlinkSync(`/x/${bwPass}`, path.join(L.tmp, 'link'));
    write(path.join(L.capture, 'argv-9.jsonl'), `${JSON.stringify(['node', 'x', fixed])}\n`);
    write(path.join(L.capture, 'vitest.out'), `minted ${token()}\n`);
    write(
      path.join(L.tmp, 'jail/usr/local/bin/node'),
      Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.from(admin)]),
    );

    const report = scanRun({
      layout: L,
      secrets: [{ kind: 'vault-item', value: fixed }],
      argvSamples: [['bw', 'unlock', bwPass].join('\0')],
    });
    db.close();
    leakyDb.close();
    const found = report.hits.map((h) => `${h.kind} @ ${h.where}`).sort();
    expect(found).toEqual(
      [
        `api-key @ ${path.relative(L.root, path.join(L.tmp, 'agent/var/db/clawdie/status.json'))}`,
        'bw-credential @ argv sampled from /proc (#0)',
        'bw-credential @ link t/link',
        'hive-admin @ g/7-2/agent/exec.log',
        'tenant-token @ c/p/9-3-node.err',
        'tenant-token @ c/p/9-4-node.err',
        'tenant-token @ t/hive/hive.db-wal',
        'vault-item @ c/argv-9.jsonl',
      ].sort(),
    );
    expect(report.tokenShaped.map((t) => t.where).sort()).toEqual(['c/p/9-3-node.err', 'c/vitest.out']);
    const text = failureText(report) ?? '';
    expect(text).toContain('tenant-token found in c/p/9-3-node.err');
    for (const v of [admin, tenantTok, storeTok, apiKey, bwPass, fixed, bridgeTok])
      expect(text).not.toContain(v);
    expect(report.argvSamples).toBe(1);
    expect(report.binaries).toBe(1); // an ELF executable is not read
    expect(report.bytes).toBeGreaterThan(0);
  });

  it('a clean run directory gives no hits and no failure text', () => {
    const L = plantedRun();
    write(path.join(L.children, '1-1-node.out'), 'http://127.0.0.1:4000\n');
    write(path.join(L.tmp, 'a/home/clawdie/.env'), `CLAWDIE_HIVE_TOKEN=${token()}\n`);
    const report = scanRun({ layout: L, secrets: [], argvSamples: [] });
    expect(report.hits).toEqual([]);
    expect(failureText(report)).toBeUndefined();
    expect(report.secrets).toBe(1);
  });
});

describe('policy', () => {
  it('names captures by program or script, bw by name', () => {
    expect(commandLabel(['/x/node', '/r/node_modules/@bitwarden/cli/build/bw.js', 'unlock'])).toBe('bw');
    expect(commandLabel(['/x/node', '/r/host-helper/cli.ts', 'provision'])).toBe('cli.ts');
    expect(commandLabel(['/x/node', '-e', 'x'])).toBe('node');
    expect(commandLabel(['unshare', '--mount'])).toBe('unshare');
  });

  it("lets bw's answers and the vault fixture hold vault values, and nothing else hold any", () => {
    const kinds = (f: string) => allowanceOf(f).map((a) => a.kind);
    expect(kinds('c/p/1-2-bw.out')).toContain('vault-item');
    expect(kinds('c/p/1-2-bw.err')).toEqual([]);
    expect(kinds('clawdie-vault-x/fixture.json')).toContain('bw-credential');
    expect(kinds('clawdie-vault-x/bw-wrong.env')).toEqual(['bw-credential']);
    expect(kinds('a/home/clawdie/.env')).toEqual(['tenant-token', 'api-key', 'vault-item']);
    expect(kinds('a/var/db/clawdie/status.json')).toEqual([]);
  });

  it("lets token files and curl's header files hold hive tokens, and a log beside them not", () => {
    const kinds = (f: string) => allowanceOf(f).map((a) => a.kind);
    expect(kinds('demo/hive/admin.header')).toEqual(['hive-admin', 'tenant-token']);
    expect(kinds('demo/acme.token')).toEqual(['hive-admin', 'tenant-token']);
    expect(kinds('demo/hive/hive.log')).toEqual([]);
    expect(kinds('demo/hive/admin.header.log')).toEqual([]);
  });

  it("harvests no secrets from the property tests' generated .env files, and from every other", () => {
    expect(isGeneratedEnv('/r/t/clawdie-render-AbC123/.env')).toBe(true);
    expect(isGeneratedEnv('/r/g/4118-6/clawdie-fuzz-env-0Xso1l/.env')).toBe(true);
    expect(isGeneratedEnv('/r/t/clawdie-agent-it-x/home/clawdie/.env')).toBe(false);
    expect(isGeneratedEnv('/r/t/my-clawdie-render-x/.env')).toBe(false);
  });

  it('takes a file of nothing but KEY=value lines for an env file, a log holding one such line not', () => {
    expect(isPureDotenv(Buffer.from('# creds\nBW_CLIENTID=a\nBW_PASSWORD=b\n'))).toBe(true);
    expect(isPureDotenv(Buffer.from('starting\nCLAWDIE_HIVE_TOKEN=abc\n'))).toBe(false);
    expect(isPureDotenv(Buffer.from(''))).toBe(false);
  });

  it('takes a lone 43-character base64url word for a token, not a slice of longer base64', () => {
    const t = token();
    expect(countTokenShaped(`CLAWDIE_HIVE_TOKEN=${t}\n`)).toBe(1);
    expect(countTokenShaped(`Bearer ${t}"`)).toBe(1);
    expect(countTokenShaped(`session ab+${t}/cd==`)).toBe(0);
    expect(countTokenShaped(`x${t}`)).toBe(0);
  });
});

describe('worker hooks (installed by the setup file in this very worker)', () => {
  const layout = runLayout(inject(RUN_KEY));

  it('points TMPDIR at the run temp tree', () => {
    expect(os.tmpdir()).toBe(layout.tmp);
  });

  it('tees piped output without consuming it: a late reader still gets every byte', async () => {
    const marker = canary('marker');
    const child = spawn(
      process.execPath,
      ['-e', `process.stdout.write('x'.repeat(30000) + '${marker}'); setTimeout(() => {}, 1500)`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await new Promise((r) => setTimeout(r, 600)); // all written, nothing read yet
    child.stdout.setEncoding('utf8');
    let out = '';
    for await (const chunk of child.stdout) out += chunk;
    expect(out).toBe(`${'x'.repeat(30000)}${marker}`);
    const files = fs
      .readdirSync(layout.children)
      .filter((f) => f.startsWith(`${process.pid}-`) && f.endsWith('.out'));
    const teed = files.map((f) => fs.readFileSync(path.join(layout.children, f), 'utf8'));
    expect(teed).toContain(out);
  });

  it('records argv and environment secrets of execFile (promisified), spawnSync and execFileSync', async () => {
    const arg = canary('argv');
    const secret = canary('k');
    const r = await promisify(execFile)(process.execPath, ['-e', 'console.log(1)', arg], {
      env: { PATH: '', SELFTEST_NOT_SECRET: secret },
    });
    expect(r.stdout).toBe('1\n');
    expect(spawnSync('true', [arg]).status).toBe(0);
    expect(execFileSync(process.execPath, ['-e', 'process.stdout.write("ok")'], { encoding: 'utf8' })).toBe(
      'ok',
    );
    const argv = fs.readFileSync(path.join(layout.capture, `argv-${process.pid}.jsonl`), 'utf8');
    expect(argv.split('\n').filter((l) => l.includes(arg))).toHaveLength(2);
    // Only the project's secret names are registered; this one is not a secret name.
    const reg = path.join(layout.registry, `${process.pid}.jsonl`);
    expect(fs.existsSync(reg) ? fs.readFileSync(reg, 'utf8') : '').not.toContain(secret);
  });

  it('keeps what a test removes under TMPDIR in the graveyard, by the same relative path', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grave-selftest-'));
    write(path.join(dir, 'a/log.txt'), 'kept');
    write(path.join(dir, 'b.txt'), 'unlinked');
    fs.unlinkSync(path.join(dir, 'b.txt'));
    expect(fs.existsSync(path.join(dir, 'b.txt'))).toBe(false);
    await fs.promises.rm(dir, { recursive: true, force: true });
    expect(fs.existsSync(dir)).toBe(false);
    const rel = path.relative(layout.tmp, dir);
    const graves = fs.readdirSync(layout.grave).filter((g) => g.startsWith(`${process.pid}-`));
    const kept = graves.filter((g) => fs.existsSync(path.join(layout.grave, g, rel, 'a/log.txt')));
    const copies = graves.filter((g) => fs.existsSync(path.join(layout.grave, g, rel, 'b.txt')));
    expect(kept).toHaveLength(1);
    expect(copies).toHaveLength(1);
    // rm of a missing path with force stays silent, without force it fails as before.
    fs.rmSync(path.join(os.tmpdir(), 'no-such-selftest'), { force: true });
    expect(() => fs.rmSync(path.join(os.tmpdir(), 'no-such-selftest'))).toThrow(/ENOENT/);
  });
});
