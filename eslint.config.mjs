// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const nodeBuiltins = [
  'assert',
  'async_hooks',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];

/** Workflow and domain code runs in Temporal's deterministic sandbox: no Node built-ins, no worker/activity code. */
const sandboxRestrictions = {
  'no-restricted-imports': [
    'error',
    {
      paths: nodeBuiltins.flatMap((name) => [
        { name, message: 'Workflow and domain code must be deterministic: no Node built-ins.' },
        {
          name: `node:${name}`,
          message: 'Workflow and domain code must be deterministic: no Node built-ins.',
        },
      ]),
      patterns: [
        {
          group: ['@temporalio/worker', '@temporalio/activity', '@temporalio/client'],
          message: 'Not available in the workflow sandbox.',
        },
        {
          group: [
            '**/activities/*',
            '!**/activities/types',
            '**/db/*',
            '**/api/*',
            '**/vault/*',
            '**/infra/*',
            '**/lib/*',
            '**/partners/**',
            '**/webhooks/*',
            '**/cards/*',
            '**/policies/*',
            '**/admin-actions/*',
            '**/issuance/*',
            '**/tenants/*',
            '**/temporal/*',
            '**/reconciliation/*',
          ],
          allowTypeImports: true,
          message: 'Workflow and domain code may import only pure modules (type imports are fine).',
        },
        {
          group: ['knex', 'objection', 'pg', 'koa', 'pino'],
          message: 'Not deterministic: keep I/O in activities.',
        },
      ],
    },
  ],
  'no-restricted-globals': [
    'error',
    { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
    { name: 'setInterval', message: 'Use a workflow timer.' },
    { name: 'process', message: 'No process access in workflow/domain code.' },
  ],
};

/** The API starts, signals and updates workflows; it never runs worker code. */
const apiRestrictions = {
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        {
          group: ['@temporalio/worker', '@temporalio/activity', '**/activities/*', '**/worker/*'],
          message: 'The API imports neither activities nor worker code.',
        },
      ],
    },
  ],
};

/** Activities carry the workflow's inputs to the table modules; they import no workflow code. */
const activityRestrictions = {
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        {
          group: ['**/workflows/*', '**/api/*'],
          allowTypeImports: true,
          message: 'Activities import no workflow or API modules (a type definition they need at most).',
        },
      ],
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'console/dist/',
      '.data/',
      'coverage/',
      'bench/results/',
      'test/fixtures/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    files: ['src/workflows/**/*.ts', 'src/domain/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: sandboxRestrictions,
  },
  { files: ['src/api/**/*.ts'], rules: apiRestrictions },
  { files: ['src/activities/**/*.ts'], rules: activityRestrictions },
  {
    files: ['scripts/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts', '**/*.test.ts'],
    // Tests read arbitrary JSON response bodies.
    rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The operators' console runs in the browser: no Node built-ins, and nothing logged (the key).
    files: ['console/src/**/*.{ts,tsx}'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*', ...nodeBuiltins], message: 'The console runs in the browser.' }] },
      ],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly', process: 'readonly', __dirname: 'readonly' },
    },
  },
  prettier,
);
