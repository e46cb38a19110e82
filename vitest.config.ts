import { defineConfig } from 'vitest/config'

export default defineConfig({
  // The packages' `source` export condition: tests run the TypeScript sources, not the build.
  ssr: { resolve: { conditions: ['source', 'node'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    setupFiles: ['test/support/fast-check-setup.ts'],
  },
})
