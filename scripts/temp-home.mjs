// A throwaway thv home for the benchmarks, the conformance run and the tests (test/fixtures/cli.ts):
// HOME and the four XDG folders in one temp folder, and never the user's OS keyring. Plain
// JavaScript, so that .mjs scripts import it as it is; TypeScript reads temp-home.d.mts.
import { join } from 'node:path';

/** HOME, XDG_CONFIG_HOME, XDG_STATE_HOME, XDG_DATA_HOME and XDG_CACHE_HOME under `root`, and TOOLHIVE_NO_KEYRING. */
export function tempHomeEnv(root) {
  return {
    HOME: root,
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_STATE_HOME: join(root, 'state'),
    XDG_DATA_HOME: join(root, 'data'),
    XDG_CACHE_HOME: join(root, 'cache'),
    TOOLHIVE_NO_KEYRING: '1',
  };
}

