import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    // Human output belongs to the CLI layer, benchmarks and scripts only.
    files: ['src/cli/**', 'bench/**', 'scripts/**', 'test/fixtures/*.mjs'],
    rules: { 'no-console': 'off' },
  },
);
