// `npm run test:compat`: checks thv against ToolHive's published registry files, converter goldens
// and the official registry's entries. That reference data is not part of the repo (see
// docs/registry.md); it is read from ../shared/data beside the checkout, or from THV_COMPAT_DATA.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const data = resolve(process.env.THV_COMPAT_DATA ?? join(root, '..', 'shared', 'data'));
if (!existsSync(join(data, 'registry'))) {
  console.log(`test:compat: no reference data at ${data}; compatibility checks not run (set THV_COMPAT_DATA to run them)`);
  process.exit(0);
}
// The CLI checks spawn the built CLI, as `npm test` does.
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const result = spawnSync(process.execPath, [vitest, 'run', '--config', 'vitest.compat.config.ts', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, THV_COMPAT_DATA: data },
});
process.exit(result.status ?? 1);
