// The FreeBSD rc.d script image/rc.d/clawdie_agent: POSIX syntax (dash, bash --posix), rcorder
// header, and the command line it hands to daemon(8), computed by sourcing the real script under a
// stub rc.subr (load_rc_config reads a test rc.conf; run_rc_command prints what rc.subr would
// exec). The argv is then parsed with daemon(8)'s own option string to show which options daemon
// sees and where the command starts. Its defaults are the body's paths (host-helper/body/layout.ts):
// node from the body's runtime with its package libraries on LD_LIBRARY_PATH, the body's bundle.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY, inJail } from '../../host-helper/body/layout.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const script = path.join(repo, 'image/rc.d/clawdie_agent');
const isRoot = process.getuid?.() === 0;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sh(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      '/bin/sh',
      args,
      { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env } },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
      },
    );
  });
}

// The stub: the rc.subr functions the script calls. run_rc_command prints the variables and, with
// rc.subr's own word splitting (it evals "$command $rc_flags $command_args"), the argv of daemon.
const STUB = [
  'load_rc_config() { if [ -n "$RC_CONF" ] && [ -r "$RC_CONF" ]; then . "$RC_CONF"; fi; }',
  'err() { _c=$1; shift; echo "ERR: $*" >&2; exit "$_c"; }',
  'warn() { echo "WARN: $*" >&2; }',
  'run_rc_command() {',
  '  if [ "$1" = start_precmd ]; then $start_precmd; exit $?; fi',
  '  for v in name rcvar pidfile procname command required_files start_precmd stop_precmd stop_postcmd \\',
  '      clawdie_agent_enable clawdie_agent_user clawdie_agent_env; do',
  '    eval "_v=\\$$v"; printf \'%s=%s\\n\' "$v" "$_v"',
  '  done',
  '  for f in "$start_precmd" "$stop_precmd" "$stop_postcmd"; do',
  '    command -v "$f" >/dev/null 2>&1 && echo "function=$f"',
  '  done',
  '  eval "set -- $command $rc_flags $command_args"',
  '  for a in "$@"; do printf \'arg=%s\\n\' "$a"; done',
  '}',
  '',
].join('\n');

let work: string;
let stubbed: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'clawdie-rcd-'));
  await writeFile(path.join(work, 'rc.subr'), STUB);
  const text = await readFile(script, 'utf8');
  expect(text).toContain('\n. /etc/rc.subr\n');
  stubbed = path.join(work, 'clawdie_agent');
  await writeFile(stubbed, text.replace('\n. /etc/rc.subr\n', `\n. ${path.join(work, 'rc.subr')}\n`));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Computed {
  vars: Record<string, string>;
  functions: string[];
  argv: string[];
}

async function compute(rcConf?: string): Promise<Computed> {
  const env: Record<string, string> = {};
  if (rcConf !== undefined) {
    env.RC_CONF = path.join(work, 'rc.conf');
    await writeFile(env.RC_CONF, rcConf);
  }
  const r = await sh([stubbed, 'start'], env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out: Computed = { vars: {}, functions: [], argv: [] };
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [key, ...rest] = line.split('=');
    const value = rest.join('=');
    if (key === 'arg') out.argv.push(value);
    else if (key === 'function') out.functions.push(value);
    else if (key) out.vars[key] = value;
  }
  return out;
}

/** daemon(8)'s getopt: optstring "+cfHSp:P:ru:o:s:l:t:m:R:T:h" (stops at the first operand). */
function parseDaemonArgv(argv: string[]): { opts: Record<string, string | true>; command: string[] } {
  const withArg = new Set('pPuostlmRT'.split(''));
  const flags = new Set('cfHSrh'.split(''));
  const opts: Record<string, string | true> = {};
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const letter = a.slice(1, 2);
    if (withArg.has(letter)) {
      opts[letter] = a.length > 2 ? a.slice(2) : (argv[++i] ?? '');
    } else if (flags.has(letter) && a.length === 2) {
      opts[letter] = true;
    } else {
      throw new Error(`daemon(8) would reject option ${a}`);
    }
  }
  return { opts, command: argv.slice(i) };
}

describe('rc.d/clawdie_agent', () => {
  it('is POSIX sh (dash and bash --posix parse it) and executable', async () => {
    expect((await sh(['-n', script])).code).toBe(0);
    const bash = await new Promise<number | null>((resolve) => {
      execFile('bash', ['--posix', '-n', script], (err) => resolve(err ? 1 : 0));
    });
    expect(bash).toBe(0);
    expect((await stat(script)).mode & 0o111).not.toBe(0);
  });

  it('has the rcorder header of a network daemon that stops on shutdown', async () => {
    const text = await readFile(script, 'utf8');
    expect(text).toMatch(/^# PROVIDE: clawdie_agent$/m);
    const require = /^# REQUIRE: (.+)$/m.exec(text)?.[1]?.split(/\s+/) ?? [];
    expect(require).toEqual(expect.arrayContaining(['LOGIN', 'NETWORKING']));
    expect(text).toMatch(/^# KEYWORD: shutdown$/m);
  });

  it('defaults: disabled, supervised by daemon(8) as root, node runs as clawdie, output to syslog', async () => {
    const c = await compute();
    expect(c.vars).toMatchObject({
      name: 'clawdie_agent',
      rcvar: 'clawdie_agent_enable',
      clawdie_agent_enable: 'NO',
      command: '/usr/sbin/daemon',
      procname: '/usr/sbin/daemon',
      pidfile: '/var/run/clawdie_agent.pid',
      required_files: inJail(BODY.bundle),
      // rc.subr would run daemon itself as ${name}_user (then it could not drop privileges).
      clawdie_agent_user: '',
      // rtld(1): LD_LIBRARY_PATH finds the body's package libraries; LD_LIBRARY_PATH_RPATH lets it
      // win over a DT_RPATH too, so nothing of the jail's own /usr/local/lib is loaded instead.
      clawdie_agent_env: `CLAWDIE_USER=clawdie LD_LIBRARY_PATH=${inJail(BODY.libdir)} LD_LIBRARY_PATH_RPATH=yes`,
    });
    expect(c.functions).toEqual([
      'clawdie_agent_prestart',
      'clawdie_agent_prestop',
      'clawdie_agent_poststop',
    ]);
    const { opts, command } = parseDaemonArgv(c.argv);
    expect(c.argv[0]).toBe('/usr/sbin/daemon');
    expect(opts).toEqual({
      f: true,
      P: '/var/run/clawdie_agent.pid',
      p: '/var/run/clawdie_agent.child.pid',
      r: true,
      R: '10',
      u: 'clawdie',
      t: 'clawdie_agent',
      S: true,
      T: 'clawdie_agent',
      s: 'info',
    });
    // The supervisor pidfile is the one rc.subr signals on stop; daemon forwards SIGTERM to node.
    expect(opts.P).toBe(c.vars.pidfile);
    expect(command).toEqual([
      inJail(BODY.node),
      '--disable-warning=ExperimentalWarning',
      '--no-short-builtin-calls',
      inJail(BODY.bundle),
      'run',
      '--root',
      '/',
    ]);
  });

  it('takes its settings from rc.conf', async () => {
    const c = await compute(
      [
        'clawdie_agent_enable="YES"',
        'clawdie_agent_account="agent7"',
        'clawdie_agent_root="/jails/t1/root"',
        'clawdie_agent_node="/opt/node24/bin/node"',
        'clawdie_agent_libpath=""',
        'clawdie_agent_node_args=""',
        'clawdie_agent_restart_delay="3"',
        'clawdie_agent_syslog_tag="agent-t1"',
        'clawdie_agent_args="--log-level debug"',
        'clawdie_agent_env="TZ=UTC"',
        '',
      ].join('\n'),
    );
    expect(c.vars.clawdie_agent_enable).toBe('YES');
    expect(c.vars.clawdie_agent_env).toBe('CLAWDIE_USER=agent7 TZ=UTC');
    const { opts, command } = parseDaemonArgv(c.argv);
    expect(opts).toMatchObject({ u: 'agent7', R: '3', T: 'agent-t1' });
    expect(command).toEqual([
      '/opt/node24/bin/node',
      inJail(BODY.bundle),
      'run',
      '--root',
      '/jails/t1/root',
      '--log-level',
      'debug',
    ]);
  });

  it.skipIf(!isRoot)('start_precmd creates the state directory 0700 for the account', async () => {
    const root = path.join(work, 'jail-root');
    const conf = path.join(work, 'rc.conf');
    await writeFile(
      conf,
      `clawdie_agent_root="${root}"\nclawdie_agent_account="root"\nclawdie_agent_node="${process.execPath}"\n`,
    );
    const r = await sh([stubbed, 'start_precmd'], { RC_CONF: conf });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const st = await stat(path.join(root, 'var/db/clawdie'));
    expect(st.isDirectory()).toBe(true);
    expect(st.mode & 0o777).toBe(0o700);
  });

  it('start_precmd refuses to start without node or without the account', async () => {
    const conf = path.join(work, 'rc.conf');
    await writeFile(conf, `clawdie_agent_root="${work}/r2"\nclawdie_agent_node="${work}/no-node"\n`);
    const noNode = await sh([stubbed, 'start_precmd'], { RC_CONF: conf });
    expect(noNode.code).toBe(1);
    expect(noNode.stderr).toContain('no-node not found: is the body mounted');
    await writeFile(
      conf,
      `clawdie_agent_root="${work}/r2"\nclawdie_agent_node="${process.execPath}"\nclawdie_agent_account="no-such-user-x9"\n`,
    );
    const noUser = await sh([stubbed, 'start_precmd'], { RC_CONF: conf });
    expect(noUser.code).toBe(1);
    expect(noUser.stderr).toContain('user no-such-user-x9 does not exist');
  });
});
