#!/usr/bin/env node
// CommonJS (bin/package.json): `thv list` and a warm `thv registry list` are answered by dist/fast.cjs
// without ever starting Node's ES module loader; anything else, and anything the fast path is not
// certain of, goes to the full CLI, dist/thv.js (docs/architecture.md#start-up).
'use strict';
// The bundle is minified; with --debug, stack traces point at the TypeScript sources instead.
const debug = process.argv.includes('--debug');
if (debug) process.setSourceMapsEnabled(true);
// Node 22.1+ keeps compiled code between runs; older Node has no such cache and skips this.
require('node:module').enableCompileCache?.();

function notBuilt(err) {
  const missing = err && (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND');
  if (missing && /dist\/(thv\.js|fast\.cjs)/.test(String(err.message))) {
    process.stderr.write('Error: thv is not built. Run `npm run build` (or `npm install`) first.\n');
    process.exit(1);
  }
  throw err;
}
const fullCli = () => import('../dist/thv.js').catch(notBuilt);

if (debug) {
  fullCli();
} else {
  let fast;
  try {
    fast = require('../dist/fast.cjs');
  } catch (err) {
    notBuilt(err);
  }
  fast.fastMain(process.argv.slice(2)).then((handled) => handled || fullCli());
}
