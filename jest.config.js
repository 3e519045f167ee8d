/**
 * Three projects: `unit` (pure domain rules, no I/O, fast), `integration` (real PostgreSQL and a
 * real Temporal dev server, started once for the run by test/setup/global-setup.ts) and `faults`
 * (`*.faults.test.ts`: tests that kill and restart Temporal servers and worker processes under
 * load). `npm test` runs the faults project after the others, one file at a time: a killed
 * server's recovery is measured against deadlines of about a second, which two other test files
 * competing for 2 cores would decide instead of the code.
 */
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
  ],
};

/** @type {import('jest').Config} */
module.exports = {
  maxWorkers: 2,
  // Integration tests wait for real timers (override and card expiry) of a few seconds.
  testTimeout: 60_000,
  reporters: ['default', '<rootDir>/test/setup/summary-reporter.js'],
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/src/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.faults\\.test\\.ts$'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
    {
      displayName: 'faults',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/**/*.faults.test.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
  ],
};
