import { defineConfig } from 'vitest/config';

/** `npm run test:compat`: only the checks against the reference data beside the checkout. */
export default defineConfig({
  test: {
    include: ['test/compat/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    maxWorkers: 2,
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.tmp/vitest-compat-results.json' }]] : ['default'],
  },
});
