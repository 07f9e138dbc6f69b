// The one vitest config (vitest 4 reads `test.projects`); run with `vitest run --config vitest.workspace.ts`.
import { defineConfig } from 'vitest/config';

const conditions = ['source', 'module', 'node', 'development|production'];

export default defineConfig({
  test: {
    coverage: {
      provider: 'v8',
      include: ['packages/codec/src/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      // Enforced by `npm test` (scripts/test.mjs); a filtered run skips coverage unless --coverage.
      thresholds: { 'packages/codec/src/**/*.ts': { lines: 95 } },
    },
    projects: [
      {
        resolve: { conditions },
        ssr: { resolve: { conditions } },
        test: { name: 'codec', include: ['packages/codec/test/**/*.test.ts'] },
      },
    ],
  },
});
