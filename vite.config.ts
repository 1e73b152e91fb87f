/// <reference types="vitest/config" />
import { availableParallelism } from 'node:os';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
// Data and model paths: 404 for a missing file (no index.html fallback), ../shared/models at /shared-models/.
import { staticFiles } from './scripts/lib/vite-static-files';
// Content-Security-Policy, nosniff and frame protection on the dev and preview servers.
import { securityHeadersPlugin } from './scripts/lib/vite-security-headers';
// tfjs's threaded wasm glue handed to its pthread workers unminified (the minified one breaks them).
import { tfjsThreadsPlugin } from './scripts/lib/vite-tfjs-threads';

/**
 * Writes dist/build-info.json ({nodeEnv}): whether React's production or development build went into the
 * bundle, which the browser-test harness checks before it reuses dist/ (a dist/ built under vitest's
 * NODE_ENV=test would measure the slow development React).
 */
function buildInfo(): Plugin {
  return {
    name: 'orderembed-build-info',
    apply: 'build',
    generateBundle() {
      const info = { nodeEnv: process.env.NODE_ENV ?? 'production' };
      this.emitFile({ type: 'asset', fileName: 'build-info.json', source: JSON.stringify(info) + '\n' });
    },
  };
}

export default defineConfig({
  plugins: [react(), securityHeadersPlugin(), staticFiles(), buildInfo(), tfjsThreadsPlugin()],
  // The tfjs wasm binaries are served from public/tfjs-wasm/ (copied by scripts/copy-wasm.mjs),
  // so the page works offline and never fetches from a CDN.
  // Worker bundles get only the plugins named here (config.plugins apply to workers in dev only).
  worker: { format: 'es', plugins: () => [tfjsThreadsPlugin()] },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
    // kernels.html: the WGSL kernel test and benchmark page (tests/e2e/kernels.e2e.test.ts).
    rollupOptions: { input: { main: 'index.html', kernels: 'kernels.html' } },
  },
  test: {
    include: ['tests/**/*.test.ts', 'tests/**/*.test.tsx'],
    exclude: ['tests/e2e/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One test file per core (vitest's default leaves one core out: a single worker on 2 cores). On the
    // 2-core CI machine the unit suite took 224 s with 1 worker and 175 s with 2, side by side.
    maxWorkers: availableParallelism(),
  },
});
