// Chaos: fast-check over every boundary that takes outside input — the wire schemas, the hive's
// HTTP endpoints (random methods, paths, tokens, bodies against the real coordinator process),
// .env rendering under the one contract (dotenv and the agent's reading of the written file),
// SKILL.md frontmatter, tenant names, and
// the flags of both CLIs (in-process through their real dispatchers, plus a bounded number of real
// processes). Never a crash, an unhandled rejection, a 5xx or a stack trace; every error is one
// line that names the problem and never echoes a marked value.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { main as hostMain } from '../../host-helper/cli.ts';
import type { EnvEntry } from '../../host-helper/envfile/entry.ts';
import { main as agentMain } from '../../src/cli.ts';
import * as protocol from '../../src/protocol/index.ts';
import { parseSkillMd, SkillFrontmatter } from '../../src/skills/frontmatter.ts';
import { renderUnderContract } from '../support/env-contract.ts';
import { type HiveProcess, nodeBinary, REPO_ROOT, startHive } from '../support/hive-process.ts';
import { LeakScanner } from '../support/leak-scan.ts';
import { reportFigures, SCALE } from './scale.ts';

const RUNS = SCALE.fuzzRuns;
const MARK = `MARKED${randomBytes(6).toString('hex')}`;
const figures: Record<string, unknown> = {};
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => {
  unhandled.push(e);
};
const scan = new LeakScanner();

const oneLine = (s: string): boolean => s.trim().length > 0 && !s.trim().includes('\n');
const noStack = (s: string): boolean => !/\n\s+at .+[:(]/.test(s) && !/^\s+at /m.test(s);

/** Any JSON-ish value, with marked strings mixed in so an echo would show. */
const marked = fc.string({ maxLength: 12 }).map((s) => `${MARK}${s}`);
const anyValue = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.jsonValue({ maxDepth: 4 }),
  marked,
  fc.dictionary(
    fc.oneof(fc.string(), fc.constantFrom('agentId', 'tenant', 'capability', 'input', 'status')),
    fc.oneof(marked, fc.jsonValue({ maxDepth: 2 })),
  ),
);

beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});

afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  reportFigures('fuzz', {
    runs: RUNS,
    unhandledRejections: unhandled.length,
    leakScan: scan.stats,
    ...figures,
  });
  expect(unhandled).toEqual([]);
  scan.assertClean();
});

describe('wire schemas', () => {
  const schemas = Object.entries(protocol).filter(([, v]) => v instanceof z.ZodType) as Array<
    [string, z.ZodType]
  >;

  it(`${'every'} schema: never throws; a refusal is one line naming a field, never echoing a value`, () => {
    expect(schemas.length).toBeGreaterThan(10);
    let refusals = 0;
    fc.assert(
      fc.property(fc.constantFrom(...schemas), anyValue, ([, schema], value) => {
        const r = schema.safeParse(value);
        if (r.success) return;
        refusals += 1;
        const line = protocol.formatProblem(r.error, 'body');
        expect(oneLine(line)).toBe(true);
        expect(line).not.toContain(MARK);
      }),
      { numRuns: RUNS * 5 },
    );
    figures.schemas = { count: schemas.length, refusals };
  });
});

describe('hive HTTP endpoints with random requests', () => {
  let hive: HiveProcess;
  let tenantToken: string;
  beforeAll(async () => {
    hive = await startHive({ pollSeconds: 0 });
    tenantToken = await hive.mintToken('fuzz');
    scan.secret('hive-admin', hive.adminToken);
    scan.secret('tenant-token', tenantToken, 'fuzz');
  }, 60_000);
  afterAll(async () => {
    scan.text('hive output', hive.output());
    scan.tree(path.dirname(hive.dbPath));
    await hive?.stop();
  });

  function send(req: {
    method: string;
    path: string;
    headers: Record<string, string>;
    body: Buffer | undefined;
  }): Promise<{ status: number; body: string }> {
    const u = new URL(hive.url);
    return new Promise((resolve, reject) => {
      const r = http.request(
        {
          host: u.hostname,
          port: u.port,
          method: req.method,
          path: req.path,
          headers: req.headers,
          agent: false,
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      r.setTimeout(20_000, () => r.destroy(new Error('timeout')));
      r.on('error', (err: NodeJS.ErrnoException) => {
        // A server may answer an oversized body early and close while we still write: a cut
        // connection (no answer read) is allowed only then, and counted.
        const big = (req.body?.length ?? 0) > protocol.MAX_BODY_BYTES;
        if (big && (err.code === 'EPIPE' || err.code === 'ECONNRESET')) resolve({ status: 0, body: '' });
        else reject(err);
      });
      r.end(req.body);
    });
  }

  const seg = fc.oneof(
    fc.constantFrom('00000000-0000-0000-0000-000000000000', 'x', '..', '%2e%2e', '%00', 'a'.repeat(300)),
    fc.stringMatching(/^[A-Za-z0-9._~%-]{0,20}$/),
  );
  const pathArb = fc.oneof(
    fc
      .tuple(
        fc.constantFrom(
          '/v1/agents',
          '/v1/agents/:',
          '/v1/agents/:/heartbeat',
          '/v1/agents/:/tasks?wait=0',
          '/v1/tasks',
          '/v1/tasks/:',
          '/v1/tasks/:/result',
          '/v1/tasks/:/release',
          '/v1/spawn',
          '/v1/admin/tenants/:/token',
          '/v1/admin/agents',
          '/v1/admin/agents/:/drain',
          '/',
          '/v2/x',
        ),
        seg,
        fc.constantFrom('', '?wait=abc', '?wait=-1', '?wait=1e9', '?x=%ZZ'),
      )
      .map(([p, s, q]) => p.replace(':', s) + (p.includes('?') ? '' : q)),
    fc.stringMatching(/^\/[ -~]{0,40}$/).map((p) => p.replace(/[ #]/g, '_')),
  );
  const bodyArb = fc.oneof(
    fc.constant(undefined),
    anyValue.map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    fc.constantFrom('{', '[1,', '{"a":'.repeat(2000), 'null', '""').map((s) => Buffer.from(s)),
  );

  it('never 5xx; every error is the one-line error shape', async () => {
    const statuses: Record<string, number> = {};
    let bigSent = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH'),
        pathArb,
        fc.constantFrom('none', 'garbage', 'tenant', 'admin', 'basic'),
        fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1', ''),
        bodyArb,
        fc.integer({ min: 0, max: 99 }),
        async (method, p, auth, ctype, body, dice) => {
          const headers: Record<string, string> = {};
          if (auth === 'garbage') headers.authorization = `Bearer ${MARK}`;
          if (auth === 'tenant') headers.authorization = `Bearer ${tenantToken}`;
          if (auth === 'admin') headers.authorization = `Bearer ${hive.adminToken}`;
          if (auth === 'basic') headers.authorization = 'Basic Zm9vOmJhcg==';
          if (ctype) headers['content-type'] = ctype;
          let b = body;
          if (dice === 0) {
            b = Buffer.alloc(1024 * 1024 + 10, 0x61); // over the 1 MiB cap
            bigSent += 1;
          }
          const sent = method === 'GET' ? undefined : b;
          // Framed properly (a DELETE body without a length would be a malformed HTTP stream).
          if (sent !== undefined) headers['content-length'] = String(sent.length);
          const res = await send({ method, path: p, headers, body: sent });
          statuses[res.status === 0 ? 'cut' : res.status] =
            (statuses[res.status === 0 ? 'cut' : res.status] ?? 0) + 1;
          if (res.status === 0) return;
          expect(res.status, `${method} ${p}`).toBeLessThan(500);
          scan.text(`hive answer to ${method}`, res.body);
          if (res.status >= 400) {
            const parsed = protocol.ErrorBody.safeParse(JSON.parse(res.body));
            expect(parsed.success, res.body.slice(0, 200)).toBe(true);
            expect(oneLine(res.body)).toBe(true);
            expect(res.body).not.toContain(MARK);
            expect(noStack(res.body)).toBe(true);
          }
        },
      ),
      { numRuns: SCALE.httpFuzzRequests },
    );
    expect(hive.child.exitCode).toBeNull();
    expect(hive.output()).not.toMatch(/\n\s+at .+:\d+:\d+/);
    figures.http = { requests: SCALE.httpFuzzRequests, overCap: bigSent, statuses };
  }, 300_000);

  /** Sends raw bytes on one loopback connection and reads until the hive closes it. */
  function sendRaw(bytes: Buffer, keepOpen: boolean): Promise<string> {
    const u = new URL(hive.url);
    return new Promise((resolve) => {
      let got = '';
      const sock = net.connect(Number(u.port), u.hostname, () => {
        if (keepOpen) sock.write(bytes);
        else sock.end(bytes);
      });
      sock.setEncoding('latin1').on('data', (d: string) => (got += d));
      // A stream the hive is still waiting on (an unfinished request) is ended by us, not by it.
      sock.setTimeout(5_000, () => sock.end());
      sock.on('close', () => resolve(got));
      sock.on('error', () => undefined);
    });
  }

  /** The complete responses in what the hive sent on one connection, and any bytes left over. */
  function splitAnswers(raw: string): { answers: { status: number; body: string }[]; rest: string } {
    const answers: { status: number; body: string }[] = [];
    let rest = raw;
    for (;;) {
      const end = rest.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n/.exec(rest);
      if (end === -1 || !m) break;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(rest.slice(0, end + 2))?.[1] ?? '0');
      if (rest.length < end + 4 + length) break;
      answers.push({ status: Number(m[1]), body: rest.slice(end + 4, end + 4 + length) });
      rest = rest.slice(end + 4 + length);
    }
    return { answers, rest };
  }

  // Malformed HTTP streams, each carrying the mark so an echo would show; some behind a
  // well-framed request on the same connection.
  const junk = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a).toString('latin1'));
  const malformed = fc.oneof(
    junk.map((j) => `${MARK}${j}\r\n\r\n`),
    fc
      .tuple(fc.constantFrom('G ET', 'GET\x00', '', 'POST /v1/tasks', '\x16\x03\x01'), junk)
      .map(([m, j]) => `${m} /${MARK} HTTP/1.1${j}\r\n\r\n`),
    fc
      .constantFrom(`Bad Name${MARK}: x`, `${MARK}`, `X: a\x00${MARK}`, `X\t${MARK}: y`, ` folded${MARK}`)
      .map((h) => `GET /v1/admin/agents HTTP/1.1\r\nHost: x\r\n${h}\r\n\r\n`),
    fc.constantFrom('HTTP/9.9', 'HTTP/1.1x', `HTTP/${MARK}`).map((v) => `GET / ${v}\r\nHost: x\r\n\r\n`),
    fc
      .constantFrom(
        'Content-Length: 5\r\nContent-Length: 6',
        'Content-Length: -1',
        `Content-Length: ${MARK}`,
        'Transfer-Encoding: chunked\r\nContent-Length: 3',
        'Transfer-Encoding: gzip, chunked, identity',
      )
      .map((h) => `POST /v1/tasks HTTP/1.1\r\nHost: x\r\n${h}\r\n\r\n{"${MARK}":1}`),
    junk.map(
      (j) =>
        `POST /v1/tasks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZ${j}${MARK}\r\n{}\r\n0\r\n\r\n`,
    ),
    fc
      .integer({ min: 17_000, max: 70_000 })
      .map((n) => `GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(n)}${MARK}\r\n\r\n`),
  );

  it('malformed HTTP streams: every answer that arrives is the one-line error shape, never an echo', async () => {
    const statuses: Record<string, number> = {};
    let noAnswer = 0;
    await fc.assert(
      fc.asyncProperty(
        // Well-framed requests before the bad bytes, with the status each must get: 404, 401, and
        // 400 for an HTTP/1.1 request without Host (refused in the error shape, not Node's bare 400).
        fc.constantFrom(
          ['', 0],
          ['GET /nope HTTP/1.1\r\nHost: x\r\n\r\n', 404],
          ['GET /v1/admin/agents HTTP/1.1\r\nHost: x\r\n\r\n', 401],
          ['GET /v1/admin/agents HTTP/1.1\r\n\r\n', 400],
        ),
        malformed,
        fc.boolean(),
        async ([prefix, first], bad, keepOpen) => {
          const raw = await sendRaw(Buffer.from(prefix + bad, 'latin1'), keepOpen);
          expect(raw).not.toContain(MARK);
          const { answers, rest } = splitAnswers(raw);
          expect(rest, raw.slice(0, 300)).toBe('');
          if (answers.length === 0) noAnswer += 1;
          for (const a of answers) {
            statuses[a.status] = (statuses[a.status] ?? 0) + 1;
            expect(a.status).toBeGreaterThanOrEqual(400);
            expect(a.status).toBeLessThan(500);
            expect(protocol.ErrorBody.safeParse(JSON.parse(a.body)).success, a.body.slice(0, 200)).toBe(true);
            expect(oneLine(a.body)).toBe(true);
          }
          // A well-framed request before the bad bytes is answered first, in order.
          if (prefix !== '' && answers.length > 0) {
            expect(answers[0]?.status).toBe(first);
          }
        },
      ),
      { numRuns: Math.round(SCALE.httpFuzzRequests / 3) },
    );
    expect(hive.child.exitCode).toBeNull();
    expect(hive.output()).not.toContain(MARK);
    expect(hive.output()).not.toMatch(/\n\s+at .+:\d+:\d+/);
    figures.malformedHttp = { streams: Math.round(SCALE.httpFuzzRequests / 3), statuses, noAnswer };
  }, 300_000);
});

describe('.env rendering', () => {
  // Its own mark: the leak scan takes every value of a rendered .env for a secret, and the CLI fuzz
  // below echoes marked arguments (argv is not secret), so one shared mark would read as a leak.
  const SECRET = `SECRET${randomBytes(6).toString('hex')}`;
  const secret = fc.string({ maxLength: 12 }).map((s) => `${SECRET}${s}`);
  const pair = fc.record({
    name: fc.oneof(
      fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,15}$/),
      fc.string({ maxLength: 8 }),
      fc.constantFrom('OPENROUTER_API_KEY', 'DEEPSEEK_API_KEY', 'CLAWDIE_MODEL'),
    ),
    value: fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 40 }), secret),
    itemId: fc.uuid(),
  });
  const provider: EnvEntry = { name: 'OPENROUTER_API_KEY', value: 'sk-or-x', itemId: randomUUID() };
  const host = { tenant: 'acme', hiveUrl: 'https://hive.example.org', hiveToken: `tok-${SECRET}` };
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clawdie-fuzz-env-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  it('whatever the host renders, dotenv reads back exactly and the agent accepts; else one line naming the item or rule', async () => {
    const seen: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(fc.array(pair, { maxLength: 8 }), fc.boolean(), async (drawn: EnvEntry[], withKey) => {
        const pairs = withKey && !drawn.some((p) => p.name === provider.name) ? [provider, ...drawn] : drawn;
        const outcome = await renderUnderContract(pairs, host, path.join(dir, '.env'), SECRET);
        seen[outcome] = (seen[outcome] ?? 0) + 1;
      }),
      { numRuns: RUNS * 2 },
    );
    figures.envRender = seen;
    expect(seen.accepted).toBeGreaterThan(0);
    expect((seen['agent-item'] ?? 0) + (seen['agent-file'] ?? 0) + (seen['host-item'] ?? 0)).toBeGreaterThan(
      0,
    );
  });
});

describe('SKILL.md frontmatter', () => {
  const valid = fc
    .tuple(
      fc.string({ minLength: 1, maxLength: 60 }).filter((d) => /^[A-Za-z][A-Za-z .,-]*$/.test(d)),
      fc.constantFrom('', 'license: MIT\n', 'compatibility: node 24\n', 'metadata:\n  os: linux\n', 'x: 1\n'),
    )
    .map(([d, extra]) => `name: some-skill\ndescription: ${d}\n${extra}`);
  const yamlish = fc.oneof(
    valid,
    fc.string({ maxLength: 200 }),
    fc
      .dictionary(
        fc.constantFrom(...Object.keys(SkillFrontmatter.shape), 'x', 'os'),
        fc.oneof(
          fc.jsonValue({ maxDepth: 2 }),
          marked,
          fc.constantFrom('*a', '&a [1]', '!!binary x', '{', '- -'),
        ),
      )
      .map((d) =>
        Object.entries(d)
          .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join('\n'),
      ),
  );
  it('never throws; a problem is one line naming a field', () => {
    let ok = 0;
    let problems = 0;
    fc.assert(
      fc.property(yamlish, fc.string({ maxLength: 50 }), fc.boolean(), (yaml, body, fenced) => {
        const text = fenced ? `---\n${yaml}\n---\n${body}` : `${yaml}\n${body}`;
        const r = parseSkillMd(text, 'some-skill');
        if (r.ok) {
          ok += 1;
          return;
        }
        problems += 1;
        expect(oneLine(`${r.problem.field}: ${r.problem.message}`)).toBe(true);
        expect(r.problem.message).not.toContain(MARK);
      }),
      { numRuns: RUNS * 2 },
    );
    figures.skillMd = { ok, problems };
  });
});

// ---- the CLIs ----
function sink(): { stream: Writable; text: () => string } {
  let out = '';
  return {
    stream: new Writable({
      write(chunk, _e, done) {
        out += String(chunk);
        done();
      },
    }),
    text: () => out,
  };
}

const HOST_CMDS = [
  'register-tenant',
  'provision',
  'revoke',
  'list',
  'status',
  'doctor',
  'spawn-agent',
  'demo',
];
const AGENT_CMDS = ['run', 'status', 'check', 'skills'];
const unknownFlag = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/).map((s) => `--zz${s}`);
const token = fc.oneof(
  fc.constantFrom(
    '--json',
    '--config',
    '--root',
    '--check',
    '--shared',
    '--rotate-token',
    '--',
    '-x',
    '=',
    '',
  ),
  fc.stringMatching(/^[ -~]{0,12}$/),
  marked,
);
const argvArb = (cmds: string[]) =>
  fc
    .tuple(fc.constantFrom(...cmds), fc.array(token, { maxLength: 4 }), unknownFlag, fc.nat(4))
    .map(([cmd, rest, bad, at]) => {
      const args = [...rest];
      args.splice(Math.min(at, args.length), 0, bad);
      // Before a `--` an unknown flag is a flag; after it, a positional: keep it a flag.
      const dashes = args.indexOf('--');
      if (dashes !== -1 && dashes < args.indexOf(bad)) args.splice(dashes, 1);
      return [cmd, ...args];
    });

function checkUsageError(code: number | null, stderr: string, cli: string): void {
  expect(code, stderr).toBe(2);
  expect(noStack(stderr)).toBe(true);
  const lines = stderr.trim().split('\n');
  expect(lines[0]).toMatch(new RegExp(`^${cli}( [a-z-]+)?: `));
  // One line, or that line followed by the usage text.
  if (lines.length > 1) expect(lines[1]).toMatch(/^usage/);
  // argv is never secret (secrets go by env or stdin), so echoing an argument is allowed; counted.
  if (stderr.includes(MARK)) echoedArgs += 1;
}

let echoedArgs = 0;

const tenantNames = fc.oneof(
  fc.string({ maxLength: 70 }),
  fc.stringMatching(/^[a-z0-9-]{0,70}$/),
  fc.constantFrom('../x', 'ACME', '-x', 'a b', 'acme\n', '\u0430cme', 'ａcme', 'x'.repeat(64)),
);

describe('tenant names', () => {
  it('the wire schema and the CLI agree with the DESIGN regex; refusals are one line, exit 2', async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(
        tenantNames,
        fc.constantFrom('provision', 'status', 'revoke', 'register-tenant'),
        async (name, cmd) => {
          const valid = /^[a-z0-9][a-z0-9-]{0,62}$/.test(name);
          expect(protocol.TenantName.safeParse(name).success).toBe(valid);
          if (valid || name.startsWith('-')) return; // a valid name would go on to the config
          const err = sink();
          const code = await hostMain([cmd, name, '--config', '/nonexistent/host.json'], {
            stdout: sink().stream,
            stderr: err.stream,
            env: {},
            signal: new AbortController().signal,
          });
          expect(code, err.text()).toBe(2);
          expect(oneLine(err.text())).toBe(true);
          if (name.trim().length > 2) expect(err.text()).not.toContain(name.trim());
          refused += 1;
        },
      ),
      { numRuns: RUNS },
    );
    figures.tenantNames = { refused };
  }, 120_000);
});

describe('CLI flags', () => {
  it('clawdie-host and clawdie-agent in-process: unknown flags are exit 2 with one line', async () => {
    await fc.assert(
      fc.asyncProperty(argvArb(HOST_CMDS), async (argv) => {
        const err = sink();
        const code = await hostMain([...argv, '--config', '/nonexistent/host.json'], {
          stdout: sink().stream,
          stderr: err.stream,
          env: {},
          signal: new AbortController().signal,
        });
        checkUsageError(code, err.text(), 'clawdie-host');
      }),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(argvArb(AGENT_CMDS), async (argv) => {
        const err = sink();
        const code = await agentMain(argv, { stdout: sink().stream, stderr: err.stream, env: {} });
        checkUsageError(code, err.text(), 'clawdie-agent');
      }),
      { numRuns: RUNS },
    );
  }, 120_000);

  it(`as real processes (${SCALE.cliProcesses} per CLI): exit 2, one line, no stack trace`, async () => {
    const run = (entry: string, argv: string[]): Promise<{ code: number | null; stderr: string }> =>
      new Promise((resolve) => {
        scan.argv(entry, argv);
        const child = spawn(nodeBinary(), [path.join(REPO_ROOT, entry), ...argv], {
          cwd: REPO_ROOT,
          env: { PATH: process.env.PATH ?? '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.stdout.resume();
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stderr });
        });
      });
    const host = fc.sample(argvArb(HOST_CMDS), SCALE.cliProcesses);
    const agent = fc.sample(argvArb(AGENT_CMDS), SCALE.cliProcesses);
    for (let i = 0; i < host.length; i += 2) {
      // Two at a time: real processes are the slow part.
      const batch = [host[i], host[i + 1], agent[i], agent[i + 1]].filter((x) => x !== undefined);
      const results = await Promise.all(
        batch.map((argv, j) =>
          run(
            j < 2 ? 'host-helper/cli.ts' : 'src/cli.ts',
            j < 2 ? [...argv, '--config', '/nonexistent/h.json'] : argv,
          ),
        ),
      );
      results.forEach((r, j) => {
        checkUsageError(
          r.code,
          r.stderr.replace(/^.*ExperimentalWarning.*\n.*trace-warnings.*\n/m, ''),
          j < 2 ? 'clawdie-host' : 'clawdie-agent',
        );
      });
    }
    figures.cli = { processes: SCALE.cliProcesses * 2, inProcess: RUNS * 2, echoedArgs };
  }, 180_000);
});
