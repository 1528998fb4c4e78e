// `npm run build` as a real process into a temp dir: the two single-file bundles run with plain
// node 24 from an empty directory (no node_modules anywhere near), import nothing but builtins,
// carry the package version on line 2, pino works under the bundle's require shim, the body the
// build leaves (dist/body: bundle, boot.sh, rc.d script, soul) has the layout (host-helper/body/
// layout.ts) and modes a jail expects, and the Bastille template is its Bastillefile alone.
import { execFile, spawn } from 'node:child_process';
import { copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY } from '../../host-helper/body/layout.ts';
import { BUNDLES, bundleOptions, EXTERNAL_PACKAGES, readEmbeddedVersion } from '../../image/bundle.ts';
import { assembleOverlay, foreignImports, OverlayError } from '../../image/overlay.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const node = process.execPath;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    // A minimal environment: nothing from this repo (NODE_PATH, npm_*) leaks into the bundle's run.
    const env = { PATH: '/usr/bin:/bin', HOME: cwd, CLAWDIE_LOG_LEVEL: 'info' };
    execFile(cmd, args, { cwd, env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let work: string;
let out: string;
let buildRun: Run;
const version = (JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8')) as { version: string })
  .version;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'clawdie-image-build-'));
  out = path.join(work, 'dist');
  buildRun = await run(node, [path.join(repo, 'image/build.ts'), '--outdir', out], repo);
  // The sizes are part of what the build reports; show them in the test log too.
  process.stdout.write(buildRun.stdout);
}, 120_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Every module specifier a bundle loads: static imports, dynamic imports and CJS requires. */
function specifiers(text: string): { id: string; dynamic: boolean }[] {
  const found: { id: string; dynamic: boolean }[] = [];
  for (const m of text.matchAll(/^\s*import\s[^;]*?from\s*["']([^"']+)["']/gm))
    found.push({ id: m[1] ?? '', dynamic: false });
  for (const m of text.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g))
    found.push({ id: m[1] ?? '', dynamic: true });
  // A require inside a string or template is code a library generates, not one it runs (ajv, in the
  // MCP SDK, writes `require("ajv/dist/runtime/equal")` into the source of standalone validators).
  for (const m of text.matchAll(/(?<!['"`])\b(?:__require|require)\s*\(\s*["']([^"']+)["']\s*\)/g))
    found.push({ id: m[1] ?? '', dynamic: false });
  return found;
}

describe('npm run build', () => {
  it('succeeds and prints the size of each bundle', () => {
    expect(buildRun.stderr).toBe('');
    expect(buildRun.code).toBe(0);
    for (const b of BUNDLES) {
      expect(buildRun.stdout).toMatch(
        new RegExp(`${b.name}\\.mjs\\s+[\\d.]+ (KiB|MiB) \\(gzip [\\d.]+ (KiB|MiB)\\)`),
      );
    }
  });

  it('writes the two bundles, the body and the Bastille template, nothing else', async () => {
    expect((await readdir(out)).sort()).toEqual([
      'body',
      'clawdie-agent.mjs',
      'clawdie-host.mjs',
      'image-overlay',
    ]);
  });

  it('the bundled hive serves its live view (/ui) files, carried inside the bundle', async () => {
    const { UI_FILES } = await import('../../host-helper/hive/ui/assets.ts');
    // Run from an empty directory: the bundle must not read the files from beside itself.
    const child = spawn(
      node,
      [path.join(out, 'clawdie-host.mjs'), 'hive', 'serve', '--listen', '127.0.0.1:0', '--db', ':memory:'],
      {
        cwd: work,
        env: { PATH: '/usr/bin:/bin', CLAWDIE_HIVE_ADMIN_TOKEN: 'x'.repeat(40) },
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    try {
      const url = await new Promise<string>((resolve) =>
        child.stdout.setEncoding('utf8').once('data', (d: string) => resolve(d.split('\n')[0]!)),
      );
      for (const name of Object.keys(UI_FILES)) {
        const res = await fetch(`${url}/ui/${name === 'index.html' ? '' : name}`);
        const want = await readFile(path.join(repo, 'host-helper/hive/ui/static', name), 'utf8');
        expect(res.status).toBe(200);
        expect((await res.text()) === want, name).toBe(true);
      }
    } finally {
      child.kill();
    }
  });

  it.each(BUNDLES.map((b) => [b.name]))(
    '%s starts with a shebang and embeds the package version',
    async (name) => {
      const file = path.join(out, `${name}.mjs`);
      const text = await readFile(file, 'utf8');
      expect(text.split('\n', 1)[0]).toBe('#!/usr/bin/env node');
      expect(readEmbeddedVersion(text, name)).toBe(version);
      expect((await lstat(file)).mode & 0o111).not.toBe(0);
    },
  );

  it.each(BUNDLES.map((b) => [b.name]))(
    '%s imports only node builtins (native addons lazily)',
    async (name) => {
      const text = await readFile(path.join(out, `${name}.mjs`), 'utf8');
      const foreign = specifiers(text).filter(
        (s) => !isBuiltin(s.id) && !(s.dynamic && EXTERNAL_PACKAGES.includes(s.id)),
      );
      expect(foreign).toEqual([]);
    },
  );

  it.each(BUNDLES.map((b) => [b.name]))(
    '%s runs from an empty directory with no node_modules',
    async (name) => {
      const empty = await mkdtemp(path.join(tmpdir(), 'clawdie-bundle-run-'));
      try {
        await copyFile(path.join(out, `${name}.mjs`), path.join(empty, `${name}.mjs`));
        const help = await run(node, [`./${name}.mjs`, '--help'], empty);
        expect(help.code).toBe(0);
        expect(help.stdout).toMatch(/usage/i);
        expect(help.stdout).toContain(name);
        // node:sqlite is loaded on first use: a bundle that only prints usage stays silent.
        expect(help.stderr).not.toContain('ExperimentalWarning');
        const bad = await run(node, [`./${name}.mjs`, 'no-such-command'], empty);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/usage/i);
      } finally {
        await rm(empty, { recursive: true, force: true });
      }
    },
  );

  it('the bundled agent boots with no .env, waits for it, and exits 0 on SIGTERM (drain)', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'clawdie-bundle-agent-'));
    const root = path.join(empty, 'root');
    const user = userInfo().username;
    let child: ReturnType<typeof spawn> | undefined;
    try {
      await copyFile(path.join(out, 'clawdie-agent.mjs'), path.join(empty, 'clawdie-agent.mjs'));
      await mkdir(root);
      const agent = spawn(node, ['./clawdie-agent.mjs', 'run', '--root', root], {
        cwd: empty,
        env: { PATH: '/usr/bin:/bin', HOME: empty, CLAWDIE_USER: user },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = agent;
      let stdout = '';
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
        agent.on('exit', (code, signal) => resolve({ code, signal }));
      });
      // It logs once which env file it waits for; then it is in awaitingSecrets with its handlers set.
      const envFile = path.join(root, 'home', user, '.env');
      await new Promise<void>((resolve, reject) => {
        agent.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes(envFile)) resolve();
        });
        agent.on('exit', () => reject(new Error(`agent exited early: ${stdout}`)));
      });
      agent.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('pino logs through the bundle banner (require shim) with redaction, from an empty directory', async () => {
    const probeDir = path.join(work, 'probe');
    const options = bundleOptions(
      { name: 'probe', entry: 'src/log.ts' },
      {
        repoRoot: repo,
        outDir: probeDir,
        version,
        minify: true,
      },
    );
    const source =
      "import { createLogger } from './src/log.ts';\n" +
      "createLogger({ name: 'probe' }).info({ token: 'tok-probe-7f3a', n: 1 }, 'probe line');\n";
    await build({ ...options, stdin: { ...options.stdin, contents: source }, logLevel: 'silent' });
    const empty = await mkdtemp(path.join(tmpdir(), 'clawdie-bundle-pino-'));
    try {
      await copyFile(path.join(probeDir, 'probe.mjs'), path.join(empty, 'probe.mjs'));
      const r = await run(node, ['./probe.mjs'], empty);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const line = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
      expect(line).toMatchObject({ name: 'probe', msg: 'probe line', token: '[redacted]', n: 1 });
      expect(r.stdout).not.toContain('tok-probe-7f3a');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

/** A repo with just what assembleOverlay reads (skills/ left to the test). */
async function fakeRepo(name: string): Promise<string> {
  const fake = path.join(work, name);
  await mkdir(path.join(fake, 'image/bastille/clawdie-agent'), { recursive: true });
  await mkdir(path.join(fake, 'image/rc.d'), { recursive: true });
  await mkdir(path.join(fake, 'image/linux'), { recursive: true });
  await writeFile(path.join(fake, 'image/linux/boot.sh'), '#!/bin/sh\n');
  await writeFile(path.join(fake, 'image/bastille/clawdie-agent/Bastillefile'), 'PKG node24\n');
  await writeFile(path.join(fake, 'image/rc.d/clawdie_agent'), '#!/bin/sh\n');
  await writeFile(path.join(fake, 'bundle.mjs'), '#!/usr/bin/env node\n');
  return fake;
}

describe('the body the build leaves (dist/body) and the Bastille template', () => {
  const body = (): string => path.join(out, 'body');
  const mode = async (p: string): Promise<number> => (await lstat(path.join(body(), p))).mode & 0o7777;

  it('the template is the Bastillefile alone: it mounts a body and copies nothing', async () => {
    expect(await readdir(path.join(out, 'image-overlay'))).toEqual(['Bastillefile']);
    expect(await readFile(path.join(out, 'image-overlay/Bastillefile'), 'utf8')).toBe(
      await readFile(path.join(repo, 'image/bastille/clawdie-agent/Bastillefile'), 'utf8'),
    );
    expect((await lstat(path.join(out, 'image-overlay/Bastillefile'))).mode & 0o777).toBe(0o644);
  });

  it('holds the agent bundle, boot.sh and the rc.d script at their body paths, 0555', async () => {
    const shipped = await readFile(path.join(body(), BODY.bundle));
    expect(shipped.equals(await readFile(path.join(out, 'clawdie-agent.mjs')))).toBe(true);
    expect(await readFile(path.join(body(), BODY.rcd), 'utf8')).toBe(
      await readFile(path.join(repo, 'image/rc.d/clawdie_agent'), 'utf8'),
    );
    expect(await readFile(path.join(body(), BODY.boot), 'utf8')).toBe(
      await readFile(path.join(repo, 'image/linux/boot.sh'), 'utf8'),
    );
    for (const f of [BODY.bundle, BODY.rcd, BODY.boot]) expect(await mode(f), f).toBe(0o555);
    // The runtime is not the build's: `clawdie-host body install` adds it.
    expect((await readdir(body())).sort()).toEqual(['etc', 'libexec', 'soul']);
  });

  it('ships the image soul and every skill of the repo; no links, no group/other write', async () => {
    expect(await readFile(path.join(body(), BODY.soul, 'SOUL.md'), 'utf8')).toBe(
      await readFile(path.join(repo, 'image/soul/SOUL.md'), 'utf8'),
    );
    const skipped = [...buildRun.stdout.matchAll(/not in the jail image: skill (\S+)/g)].map((m) => m[1]);
    const skills = await readdir(path.join(repo, 'skills'), { withFileTypes: true }).catch(() => []);
    for (const s of skills.filter((d) => d.isDirectory())) {
      const shipped = path.join(body(), BODY.soul, 'skills', s.name, 'SKILL.md');
      expect(
        await lstat(shipped).then(
          (st) => st.isFile(),
          () => false,
        ),
        shipped,
      ).toBe(!skipped.includes(s.name));
    }
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        const st = await lstat(p);
        expect(st.isSymbolicLink(), p).toBe(false);
        expect(st.mode & 0o022, p).toBe(0);
        if (st.isDirectory()) {
          expect(st.mode & 0o777, p).toBe(0o755);
          await walk(p);
        }
      }
    };
    await walk(body());
  });

  it('leaves out of the jail image a skill whose scripts import npm packages, and says so', async () => {
    const fake = await fakeRepo('fake-npm');
    await mkdir(path.join(fake, 'skills/plain/scripts'), { recursive: true });
    await mkdir(path.join(fake, 'skills/native/scripts/lib'), { recursive: true });
    await writeFile(path.join(fake, 'skills/plain/SKILL.md'), '---\nname: plain\n---\n');
    await writeFile(
      path.join(fake, 'skills/plain/scripts/run.mjs'),
      "import fs from 'node:fs';\nimport './lib.mjs';\n",
    );
    await writeFile(path.join(fake, 'skills/native/SKILL.md'), '---\nname: native\n---\n');
    await writeFile(
      path.join(fake, 'skills/native/scripts/lib/x.js'),
      "const r = await import('@scope/pkg/sub');\n",
    );
    const r = await assembleOverlay({
      repoRoot: fake,
      outDir: path.join(fake, 'out'),
      agentBundle: path.join(fake, 'bundle.mjs'),
    });
    expect(r.skipped).toEqual([{ skill: 'native', packages: ['@scope/pkg'] }]);
    expect((await readdir(path.join(r.bodyDir, BODY.soul, 'skills'))).sort()).toEqual(['plain']);
  });

  it('finds the npm packages a script imports, whatever the import form', () => {
    const src = [
      "import a from 'left-pad';",
      'import { b } from "@org/b/deep";',
      "import 'side-effect';",
      "import fs from 'node:fs'; import os from 'os';",
      "const c = await import('c-lazy');",
      "const d = require('d-cjs');",
      "import e from './local.mjs';",
    ].join('\n');
    expect(foreignImports(src)).toEqual(['@org/b', 'c-lazy', 'd-cjs', 'left-pad', 'side-effect']);
  });

  it('refuses to ship a symbolic link found in skills/', async () => {
    const fake = await fakeRepo('fake-link');
    await mkdir(path.join(fake, 'skills/evil'), { recursive: true });
    await symlink('/etc/master.passwd', path.join(fake, 'skills/evil/SKILL.md'));
    await expect(
      assembleOverlay({
        repoRoot: fake,
        outDir: path.join(fake, 'out'),
        agentBundle: path.join(fake, 'bundle.mjs'),
      }),
    ).rejects.toThrow(OverlayError);
  });
});
