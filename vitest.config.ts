import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // End-to-end suites start real servers and kubectl; keep them from competing for 2 cores.
    fileParallelism: false,
    reporters: ['default'],
  },
});
