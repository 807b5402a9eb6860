/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';

// Tests fork real worker processes; two Jest workers keep a 2-core machine responsive.
const config: Config = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json', diagnostics: false }],
  },
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  maxWorkers: 2,
  // A generous bound, reached only by a broken test: inner deadlines (test/helpers) fail first.
  testTimeout: 120_000,
  setupFilesAfterEnv: ['<rootDir>/test/setup/after-each.ts'],
  // Bundles the fixtures once, so forked workers start without tsx (see the file).
  globalSetup: '<rootDir>/test/setup/global-setup.mjs',
  globalTeardown: '<rootDir>/test/setup/global-teardown.mjs',
};

export default config;
