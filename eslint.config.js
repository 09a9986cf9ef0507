import tseslint from 'typescript-eslint';
import { importX, createNodeResolver } from 'eslint-plugin-import-x';

// The layer order of src/ (docs/architecture.md#layers): a folder may import its own layer and the
// layers before it, never one after it. Folders that do not exist yet are covered the day they appear.
const LAYERS = [
  'core', 'config', 'secrets', 'transport', 'auth', 'registry', 'isolation',
  'runtimes', 'workloads', 'clients', 'app', 'api', 'cli',
];

const ORDER = LAYERS.join(' → ');
const layerZones = LAYERS.flatMap((lower, i) =>
  LAYERS.slice(i + 1).map((higher) => ({
    target: `./src/${lower}`,
    from: `./src/${higher}`,
    message:
      `src/${lower} must not import src/${higher}: layers import only downwards (${ORDER}; docs/architecture.md#layers). ` +
      'Pass it in as a parameter from above, or move the shared code down.',
  })),
);

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
    // One-way layers and no import cycles, in src/ (docs/architecture.md#how-lint-enforces-it).
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // Sources import './x.js' and mean './x.ts' (NodeNext style).
      'import-x/resolver-next': [
        createNodeResolver({ extensions: ['.ts', '.js', '.json'], extensionAlias: { '.js': ['.ts', '.js'] } }),
      ],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // Environment variables are read in src/core/env.ts only (docs/architecture.md#environment-variables).
    files: ['src/**/*.ts'],
    ignores: ['src/core/env.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...[
          "MemberExpression[computed=false][object.type='MemberExpression'][object.object.name='process'][object.property.name='env']",
          'MemberExpression[computed=false][property.name=/^(TOOLHIVE|THV|XDG)_/]',
          'MemberExpression[computed=true][property.value=/^(TOOLHIVE|THV|XDG)_/]',
        ].map((selector) => ({
          selector,
          message: 'Read environment variables through src/core/env.ts (one module, one on/off rule; the README lists them).',
        })),
      ],
    },
  },
  {
    // Human output belongs to the CLI layer, benchmarks and scripts only.
    files: ['src/cli/**', 'bench/**', 'scripts/**', 'test/fixtures/*.mjs'],
    rules: { 'no-console': 'off' },
  },
);
