import { defineConfig } from 'vitest/config';

// Real-browser smoke test: builds dist/ if stale, serves it with `vite preview`, drives
// /usr/bin/chromium with playwright-core. Run with `npm run test:e2e`.
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.e2e.test.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 300_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
