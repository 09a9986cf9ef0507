#!/usr/bin/env node
import('../dist/thv.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/thv.js')) {
    process.stderr.write('Error: thv is not built. Run `npm run build` (or `npm install`) first.\n');
    process.exit(1);
  }
  throw err;
});
