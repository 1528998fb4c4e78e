// The esbuild side of `npm run build`: one single-file ESM bundle per program, runnable by plain
// node >= 24 with no node_modules beside it. In: a bundle spec (name + entry module exporting
// `runAsProcess`) and the package version. Out: `<outDir>/<name>.mjs` and its esbuild metafile.
import { readFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';
import { UI_FILES } from '../host-helper/hive/ui/assets.ts';

export interface BundleSpec {
  /** Output file stem and the name in the version line, e.g. `clawdie-agent`. */
  name: string;
  /** Repo-relative module exporting `runAsProcess(argv?)`. */
  entry: string;
}

export const BUNDLES: readonly BundleSpec[] = [
  { name: 'clawdie-agent', entry: 'src/cli.ts' },
  { name: 'clawdie-host', entry: 'host-helper/cli.ts' },
];

/**
 * Packages that must never be inlined: native addons (`.node` files cannot live inside a .mjs).
 * Code that imports one does so lazily, on a lane that installs it; the jail bundle never does.
 */
export const EXTERNAL_PACKAGES = ['@resvg/resvg-js'];

/**
 * Node builtins imported by the program's ES modules are read with `process.getBuiltinModule()`,
 * each through a small module of its own, instead of an `import` the bundle would hoist to its top:
 * - an `import` of a builtin makes node build that builtin's ES module facade (a module record of
 *   every export, kept in sync with the builtin) before the bundle's first line runs. Measured for
 *   the agent's seven at start (fs, fs/promises, path, crypto, util, v8, timers/promises): ~9 ms
 *   of node 24's start, against nothing measurable for reading the same modules with
 *   `process.getBuiltinModule()` (test/bench/agent.bench.ts);
 * - hoisted, `node:sqlite` (and its ExperimentalWarning) would load on every run, even `--help`,
 *   where the sources load it only inside a lazily imported command; `node:child_process` (only
 *   skill scripts and host commands spawn) would cost the agent's boot ~1 MiB. As modules of their
 *   own, esbuild initializes them lazily, with their importer.
 * CommonJS dependencies' `require('node:…')` stays as it is (the banner's `require` reads the
 * builtin, no facade). Dynamic `import('node:…')` too: it runs where it is called.
 */
export const BUILTIN_EXPORTS: Readonly<Record<string, readonly string[]>> = {
  // Listed, not read from the building node: loading it there would print its warning in the build.
  'node:sqlite': ['DatabaseSync', 'StatementSync', 'backup', 'constants'],
};

/** The export names of a builtin: listed above, else as the building node has them. */
function exportNames(id: string): readonly string[] {
  const listed = BUILTIN_EXPORTS[id];
  if (listed) return listed;
  return Object.keys(process.getBuiltinModule(id) as object).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n));
}

/**
 * Each export reads its property of the builtin in a call marked pure, so esbuild drops the ones no
 * importer uses: a builtin's lazy getters (node:fs's ReadStream loads its streams module, node:crypto's
 * webcrypto its Web Crypto) run only for a name the program imports.
 */
export function lazyBuiltinSource(id: string, names: readonly string[]): string {
  const lines = [`const m = process.getBuiltinModule(${JSON.stringify(id)});`];
  for (const n of names) {
    if (n !== 'default') lines.push(`export const ${n} = /* @__PURE__ */ (() => m.${n})();`);
  }
  lines.push('export default m;', '');
  return lines.join('\n');
}

export const lazyBuiltinsPlugin: Plugin = {
  name: 'clawdie-lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z][a-z0-9_/]*$/ }, (args) =>
      args.kind === 'import-statement' && isBuiltin(args.path)
        ? { path: args.path, namespace: 'clawdie-lazy-builtin' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'clawdie-lazy-builtin' }, (args) => ({
      contents: lazyBuiltinSource(args.path, exportNames(args.path)),
      loader: 'js',
    }));
  },
};

/**
 * undici's HTTP/2 client module requires `node:http2` when it loads (for a few header-name and
 * error-code constants) although it connects with HTTP/2 only when a TLS server picks `h2`. Loading
 * `node:http2` (and the TLS stack under it) at start costs the agent ~8 MiB of RSS and several ms,
 * for a hive reached over plain HTTP. For that one importer `node:http2` is a module holding the
 * constants (copied at build time from the node running the build) that loads the real module on
 * any other property, i.e. at the first HTTP/2 connection.
 */
export const lazyHttp2Plugin: Plugin = {
  name: 'clawdie-lazy-http2',
  setup(b) {
    b.onResolve({ filter: /^node:http2$/ }, (args) =>
      /[/\\]undici[/\\]lib[/\\]dispatcher[/\\]client-h2\.js$/.test(args.importer)
        ? { path: 'node:http2', namespace: 'clawdie-lazy-http2' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'clawdie-lazy-http2' }, () => ({
      contents: lazyHttp2Source(),
      loader: 'js',
    }));
  },
};

export function lazyHttp2Source(): string {
  const { constants } = process.getBuiltinModule('node:http2') as typeof import('node:http2');
  return [
    `const constants = Object.freeze(${JSON.stringify(constants)});`,
    'let real;',
    'module.exports = new Proxy({}, {',
    "  get: (_, key) => key === 'constants' ? constants : (real ??= process.getBuiltinModule('node:http2'))[key],",
    '});',
    '',
  ].join('\n');
}

/**
 * `pg` (the hive's PostgreSQL client) requires the optional native binding `pg-native` only inside
 * its lazy `pg.native` getter, which catches MODULE_NOT_FOUND; we never use it. Left external it
 * would be a static import the bundle cannot satisfy, so it resolves to a module that fails the
 * way a missing package does.
 */
export const absentOptionalPlugin: Plugin = {
  name: 'clawdie-absent-optional',
  setup(b) {
    b.onResolve({ filter: /^pg-native$/ }, (args) => ({ path: args.path, namespace: 'clawdie-absent' }));
    b.onLoad({ filter: /.*/, namespace: 'clawdie-absent' }, (args) => ({
      contents: `const e = new Error(${JSON.stringify(`Cannot find module '${args.path}' (not bundled)`)}); e.code = 'MODULE_NOT_FOUND'; throw e;`,
      loader: 'js',
    }));
  },
};

/**
 * zod's package entry also exports a `z` namespace object holding all of zod (every locale, JSON
 * Schema conversion, the compiler), which esbuild cannot tree-shake: 0.6 MiB of the agent bundle,
 * compiled at every start. The runtime (`src/`) imports zod as `import * as z from 'zod'`, so for
 * those importers `zod` resolves straight to the module the entry re-exports, and esbuild keeps only
 * what is used. Same code, same objects; a `src/` file that imports `{ z }` fails the build loudly.
 */
export function zodShakingPlugin(repoRoot: string, importerDirs: readonly string[] = ['src']): Plugin {
  const require = createRequire(path.join(repoRoot, 'package.json'));
  const entry = path.join(path.dirname(require.resolve('zod')), 'v4/classic/external.js');
  const own = importerDirs.map((d) => `${path.join(repoRoot, d)}${path.sep}`);
  return {
    name: 'clawdie-zod-shaking',
    setup(b) {
      b.onResolve({ filter: /^zod$/ }, (args) =>
        own.some((dir) => args.importer.startsWith(dir)) ? { path: entry } : undefined,
      );
    },
  };
}

/**
 * The hive's live view (`/ui`) serves static files that its sources read from
 * host-helper/hive/ui/static at run time; a single-file bundle has no such folder, so the module
 * that reads them (ui/assets.ts) becomes one that holds them, read here at build time.
 */
export function uiAssetsSource(repoRoot: string): string {
  const dir = path.join(repoRoot, 'host-helper/hive/ui/static');
  const assets = Object.fromEntries(
    Object.entries(UI_FILES).map(([name, type]) => [
      name,
      { type, body: readFileSync(path.join(dir, name), 'utf8') },
    ]),
  );
  return [
    `export const UI_FILES = ${JSON.stringify(UI_FILES)};`,
    `const ASSETS = ${JSON.stringify(assets)};`,
    'export function uiAssets() { return ASSETS; }',
    '',
  ].join('\n');
}

export function uiAssetsPlugin(repoRoot: string): Plugin {
  return {
    name: 'clawdie-ui-assets',
    setup(b) {
      b.onLoad({ filter: /[/\\]host-helper[/\\]hive[/\\]ui[/\\]assets\.ts$/ }, () => ({
        contents: uiAssetsSource(repoRoot),
        loader: 'js',
      }));
    },
  };
}

/** Line 2 of every bundle; `agent-jail-bootstrap.sh` reads it to enforce its version pin. */
export function versionLine(name: string, version: string): string {
  return `// ${name} ${version}`;
}

/** The embedded version of a bundle's text, or null when line 2 is not a version line. */
export function readEmbeddedVersion(text: string, name: string): string | null {
  const second = text.split('\n', 2)[1] ?? '';
  const match = /^\/\/ (\S+) ([0-9A-Za-z.+-]{1,64})$/.exec(second);
  return match && match[1] === name ? (match[2] ?? null) : null;
}

/**
 * The banner: shebang, version line, then a `require` for bundled CommonJS dependencies (pino and
 * its helpers call `require` for node builtins, which ESM does not define), made from `node:module`
 * read with `process.getBuiltinModule` (an `import` would build its ES facade; see BUILTIN_EXPORTS).
 */
export function banner(name: string, version: string): string {
  return [
    '#!/usr/bin/env node',
    versionLine(name, version),
    '// Single-file bundle made by image/build.ts (esbuild); needs node >= 24 and nothing else.',
    "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);",
  ].join('\n');
}

/**
 * The entry is generated: it imports the program's `runAsProcess` and calls it once. The entry
 * modules' own `if (import.meta.main)` self-start is defined away, or both would run.
 */
export function entrySource(entry: string): string {
  return `import { runAsProcess } from ${JSON.stringify(`./${entry}`)};\nawait runAsProcess();\n`;
}

export interface BundleBuild {
  repoRoot: string;
  outDir: string;
  version: string;
  minify: boolean;
  /** Repo folders whose `import * as z from 'zod'` gets the shaken zod (default: `src`). */
  zodImporterDirs?: readonly string[];
}

/** Pure: the esbuild options for one bundle. */
export function bundleOptions(spec: BundleSpec, b: BundleBuild): BuildOptions {
  return {
    stdin: {
      contents: entrySource(spec.entry),
      resolveDir: b.repoRoot,
      sourcefile: `${spec.name}.entry.ts`,
      loader: 'ts',
    },
    outfile: path.join(b.outDir, `${spec.name}.mjs`),
    bundle: true,
    // No `splitting`: lazy `import('./x.ts')` of static paths are inlined, so the output is one file.
    platform: 'node',
    format: 'esm',
    target: 'node24',
    external: EXTERNAL_PACKAGES,
    // `esbuildDetection` is undici's own switch for bundles (Node's build of undici sets it): it
    // leaves out the experimental Milo HTTP parser (0.16 MiB of WebAssembly, used only when
    // UNDICI_USE_MILO is set); the llhttp parser the agent uses stays.
    define: { 'import.meta.main': 'false', esbuildDetection: '1' },
    plugins: [
      lazyBuiltinsPlugin,
      lazyHttp2Plugin,
      absentOptionalPlugin,
      zodShakingPlugin(b.repoRoot, b.zodImporterDirs),
      uiAssetsPlugin(b.repoRoot),
    ],
    banner: { js: banner(spec.name, b.version) },
    // Whitespace and syntax only: identifiers stay, so stack traces in syslog remain readable.
    minifyWhitespace: b.minify,
    minifySyntax: b.minify,
    minifyIdentifiers: false,
    // No `keepNames`: with identifiers kept it only re-labels the few top-level functions esbuild
    // renames on a name clash (e.g. `nextDelay2`; no class of ours, none whose `.name` is read), and
    // costs a `__name()` call per function and class (2,000+) at every start.
    keepNames: false,
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
    absWorkingDir: b.repoRoot,
  };
}

export interface BundleResult {
  file: string;
  bytes: number;
  /** Largest contributors by package (or `(own code)`), biggest first. */
  top: { name: string; bytes: number }[];
}

/** Groups one output's inputs by npm package so the report says what the bytes are. */
export function topContributors(
  inputs: Metafile['outputs'][string]['inputs'],
  count = 3,
): { name: string; bytes: number }[] {
  const sums = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    const key = m?.[1] ?? '(own code)';
    sums.set(key, (sums.get(key) ?? 0) + bytesInOutput);
  }
  return [...sums.entries()]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count);
}

export async function buildBundle(spec: BundleSpec, b: BundleBuild): Promise<BundleResult> {
  const options = bundleOptions(spec, b);
  const file = options.outfile as string;
  const result = await build(options);
  const outputs = (result.metafile as Metafile).outputs;
  const output = Object.entries(outputs).find(([p]) => path.resolve(b.repoRoot, p) === file)?.[1];
  return { file, bytes: output?.bytes ?? 0, top: topContributors(output?.inputs ?? {}) };
}
