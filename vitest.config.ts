import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The checks against reference data outside the repo run separately: `npm run test:compat`.
    exclude: [...configDefaults.exclude, 'test/compat/**'],
    // Generous bounds, not speed checks: an e2e test spawns the built CLI a dozen times, and on a
    // loaded 2-core machine each spawn can take seconds (speed lives in `npm run bench`).
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The e2e suites spawn the CLI and real servers; two cores do not gain from more forks.
    maxWorkers: 2,
    // In CI a JSON report lets .ci/run print a plain `N passed, N failed` closing line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.tmp/vitest-results.json' }]] : ['default'],
  },
});
