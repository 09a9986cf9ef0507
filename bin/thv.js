#!/usr/bin/env node
// The bundle is minified; with --debug, stack traces point at the TypeScript sources instead.
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
import('../dist/thv.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/thv.js')) {
    process.stderr.write('Error: thv is not built. Run `npm run build` (or `npm install`) first.\n');
    process.exit(1);
  }
  throw err;
});
