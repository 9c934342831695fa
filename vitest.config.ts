import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // RxDB's conformance suite calls the global describe/it.
    globals: true,
    environment: 'node',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/helpers/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file runs in its own process: RxDB's 13-collection limit is per process.
    pool: 'forks',
    maxWorkers: 2,
  },
});
