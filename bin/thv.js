#!/usr/bin/env node
// The bundle is minified; with --debug, stack traces point at the TypeScript sources instead.
const debug = process.argv.includes('--debug');
if (debug) process.setSourceMapsEnabled(true);
// Node 22.1+ keeps compiled code between runs; older Node has no such cache and skips this.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const notBuilt = (err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && /dist\/(thv|fast)\.js/.test(String(err.message))) {
    process.stderr.write('Error: thv is not built. Run `npm run build` (or `npm install`) first.\n');
    process.exit(1);
  }
  throw err;
};
// `thv registry list` (warm) and `thv list` are answered before the full CLI loads; anything else,
// and anything the fast path is not certain of, goes to the full CLI (docs/architecture.md#start-up).
const handled = !debug && (await import('../dist/fast.js').then(({ fastMain }) => fastMain(process.argv.slice(2)), notBuilt));
if (!handled) await import('../dist/thv.js').catch(notBuilt);
