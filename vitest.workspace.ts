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
