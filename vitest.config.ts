import { defineConfig } from 'vitest/config';

// Tests may spawn Python/torch reference scripts and load native weights, so timeouts are generous.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
