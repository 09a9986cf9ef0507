// Bundles the CLI into dist/ with esbuild: one entry, lazily loaded chunks per heavy command,
// so `thv registry list` starts without parsing fastify or the OAuth stack.
import { build } from 'esbuild';
import * as fsPromises from 'node:fs/promises';
import { rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { CatalogError, writeEmbeddedCatalog } from './catalog.mjs';
import { buildDashboard } from './build-ui.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * zod bundles error messages in ~45 languages (~300 KB, a third of what `thv registry list` would
 * load); thv's messages are English, so the locale barrel is replaced by English alone.
 */
const englishOnlyZod = {
  name: 'english-only-zod',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${join('node_modules', 'zod')}`) ? { path: 'zod-locales', namespace: 'thv-stub' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'thv-stub' }, () => ({
      contents: "export { default as en } from 'zod/v4/locales/en.js';",
      resolveDir: root,
      loader: 'js',
    }));
  },
};
/** jsonc-parser's "main" is a UMD build whose lazy require()s esbuild cannot follow; its ESM build bundles. */
const jsoncParserEsm = {
  name: 'jsonc-parser-esm',
  setup(b) {
    b.onResolve({ filter: /^jsonc-parser$/ }, () => ({ path: join(root, 'node_modules', 'jsonc-parser', 'lib', 'esm', 'main.js') }));
  },
};
/**
 * One esbuild pass into dist/: bundled ESM for Node 20, split into lazily loaded chunks, with linked
 * source maps, minified unless THV_NO_MINIFY=1; `options` name the entries and what differs (the fast
 * path is one CommonJS file).
 */
const bundle = (options) =>
  build({
    absWorkingDir: root,
    outdir: 'dist',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    minify: process.env.THV_NO_MINIFY !== '1',
    logLevel: 'warning',
    ...options,
  });

/**
 * For the fast path only: `node:fs/promises` as a module whose functions load it on first call. The
 * fast path reads synchronously, and loading it up front cost `thv list` about 3 ms for nothing.
 */
const lazyFsPromises = {
  name: 'lazy-fs-promises',
  setup(b) {
    b.onResolve({ filter: /^(node:)?fs\/promises$/ }, () => ({ path: 'fs-promises', namespace: 'thv-lazy' }));
    b.onLoad({ filter: /.*/, namespace: 'thv-lazy' }, () => ({
      contents: [
        "import * as fs from 'node:fs';",
        'export const constants = fs.constants;',
        ...Object.keys(fsPromises)
          .filter((name) => typeof fsPromises[name] === 'function')
          .map((name) => `export const ${name} = (...args) => fs.promises.${name}(...args);`),
      ].join('\n'),
      loader: 'js',
    }));
  },
};
await rm(join(root, 'dist'), { recursive: true, force: true });
// Extra entry points (e.g. the detached workload supervisor) are built when their source exists.
const entryPoints = { thv: 'src/cli/main.ts' };
for (const [name, file] of Object.entries({ supervisor: 'src/workloads/supervisor-main.ts' })) {
  if (existsSync(join(root, file))) entryPoints[name] = file;
}
await bundle({
  entryPoints,
  // Native or optional modules stay external, and pino, which log.ts loads only when a line is
  // written; everything else is bundled for start-up speed.
  external: ['@napi-rs/keyring', 'pino', 'pino-pretty', 'thread-stream'],
  banner: {
    // Bundled CommonJS dependencies expect these names.
    js: [
      "import { createRequire as __thvCreateRequire } from 'node:module';",
      "import { fileURLToPath as __thvFileURLToPath } from 'node:url';",
      "import { dirname as __thvDirname } from 'node:path';",
      'const require = __thvCreateRequire(import.meta.url);',
      'const __filename = __thvFileURLToPath(import.meta.url);',
      'const __dirname = __thvDirname(__filename);',
    ].join(' '),
  },
  loader: { '.json': 'json' },
  plugins: [englishOnlyZod, jsoncParserEsm],
});
// The start-up fast path (docs/architecture.md#start-up), built apart from dist/thv.js as one CommonJS
// file, dist/fast.cjs, that bin/thv.js (CommonJS too) requires: a process that loads no ES module
// never starts Node's ES module loader, and `require` of a builtin is cheaper than its ES facade —
// together about a quarter of what `thv list` cost on top of `node -e 0`. What it loads on demand (a
// container engine, for container workloads) is bundled in, evaluated only when used. It shares no
// state with dist/thv.js: when it declines a command, it has changed nothing.
await bundle({
  entryPoints: { fast: 'src/cli/fast.ts' },
  format: 'cjs',
  splitting: false,
  outExtension: { '.js': '.cjs' },
  // The two modules that locate themselves (paths.ts, log.ts) read import.meta.url, which CommonJS lacks.
  define: { 'import.meta.url': '__thvImportMetaUrl' },
  banner: { js: "const __thvImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  external: ['pino', 'pino-pretty', 'thread-stream', 'proper-lockfile'],
  plugins: [lazyFsPromises],
});
// The embedded catalog: catalog/servers.yaml, validated, as dist/embedded-registry.json (docs/registry.md).
try {
  await writeEmbeddedCatalog(root);
} catch (err) {
  if (!(err instanceof CatalogError)) throw err;
  console.error(`The catalog has problems:\n${err.message}`);
  process.exit(1);
}
// The web dashboard served by `thv serve` (docs/dashboard.md).
await buildDashboard(root);
