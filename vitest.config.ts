import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['broker/**/*.test.ts', 'operator/**/*.test.ts', 'hack/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    // Real-client tests start child processes (JVMs among them); two cores do not run many at once.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
