import { defineConfig } from 'vitest/config';
import { precompiledValidators } from './client/sync/validators/build.ts';

export default defineConfig({
  // The devices' validators as the apps' build generates them (client/sync/validators/build.ts).
  plugins: [precompiledValidators()],
  test: {
    // RxDB's conformance suite calls the global describe/it.
    globals: true,
    environment: 'node',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/helpers/setup.ts'],
    // The national Schematron is compiled once per machine before the files start (cached by hash),
    // and the apps are built once (if stale): no file's set-up waits for either under load.
    globalSetup: ['test/helpers/schematron-setup.ts', 'test/helpers/client-build-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Eventual arrival (a sync, a re-render) on a loaded 2-core CI machine can take seconds;
    // vitest's default of 1 s made correct tests fail. A poll still fails if it never holds.
    expect: { poll: { timeout: 15_000, interval: 50 } },
    // Each file runs in its own process: RxDB's 13-collection limit is per process.
    pool: 'forks',
    maxWorkers: 2,
  },
});
