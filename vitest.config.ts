import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    // Namespace and lab tests spawn many processes on a 2-core machine; two files at a time
    // keeps them inside their timeouts while the pure tests still run in parallel.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
