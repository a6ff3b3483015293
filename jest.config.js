'use strict';
const { swcOptions } = require('./swc.config');

const common = {
  transform: { '^.+\\.ts$': ['@swc/jest', swcOptions()] },
  moduleNameMapper: { '^@fedistill/(.*)$': '<rootDir>/libs/$1/src/index.ts' },
  // Shares the outer realm's typed arrays with specs, which onnxruntime-node's native addon needs.
  testEnvironment: '<rootDir>/libs/engine/test-support/ort-environment.js',
  moduleFileExtensions: ['ts', 'js', 'json'],
};

/** @type {import('jest').Config} */
module.exports = {
  // Two workers on the 2-core machines: the end-to-end tests spend most of their time waiting for
  // other processes (deadlines, TLS round trips), so two files at a time keep the cores busy; jest's
  // default (cores - 1) ran them one by one, in about 17 minutes (2026-12-03).
  maxWorkers: 2,
  projects: [
    {
      ...common,
      displayName: 'unit',
      // A ceiling, not a measure: jest's default of 5 s failed CPU-bound specs (the fuzz slice)
      // while other jobs kept the 2-core machine at a load average near 40 (2026-12-03).
      testTimeout: 60_000,
      // test/privacy: the independent privacy oracle (no imports from libs/dp) and its checks.
      testMatch: [
        '<rootDir>/libs/**/*.spec.ts',
        '<rootDir>/apps/**/*.spec.ts',
        '<rootDir>/test/privacy/**/*.spec.ts',
        // test/fuzz: the fast slice of the fuzzers (bench/fuzz.ts runs the long one).
        '<rootDir>/test/fuzz/**/*.spec.ts',
        // test/docs: the docs test's marker parser (the docs test itself is test/docs/*.e2e-spec.ts).
        '<rootDir>/test/docs/**/*.spec.ts',
        // bench/harness: the statistics and interleaving of the comparative benchmarks.
        '<rootDir>/bench/harness/**/*.spec.ts',
        // bench/lib: the shared arm definitions (planning an arm's noise by epsilon).
        '<rootDir>/bench/lib/**/*.spec.ts',
      ],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/e2e/support/jest-setup.ts'],
    },
    // The crash and fault matrix (minutes of SIGKILLs and restarts): `npm run test:faults`, which
    // .ci/run runs after the README's test command; not part of `npm test`.
    ...(process.env.FEDISTILL_FAULT_MATRIX === '1'
      ? [
          {
            ...common,
            displayName: 'faults',
            testMatch: ['<rootDir>/test/faults/**/*.faults-spec.ts'],
            setupFilesAfterEnv: ['<rootDir>/test/e2e/support/jest-setup.ts'],
          },
        ]
      : []),
  ],
};
