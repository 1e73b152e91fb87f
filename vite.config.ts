/// <reference types="vitest/config" />
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { defineConfig, type Connect, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * Serves ../shared/models (the ImageNet MobileNet encoders, not ours to redistribute, so not copied into
 * public/) at /shared-models/ in `vite` and `vite preview`, when that folder exists. Without it the page
 * still works with the offline fallback encoder.
 */
function sharedModels(): Plugin {
  const root = resolve(process.env.ORDEREMBED_SHARED ?? resolve(import.meta.dirname, '../shared'), 'models');
  const types: Record<string, string> = { '.json': 'application/json', '.bin': 'application/octet-stream' };
  const serve: Connect.NextHandleFunction = (req, res, next) => {
    const url = decodeURIComponent((req.url ?? '').split('?')[0]);
    if (!url.startsWith('/shared-models/')) return next();
    const file = resolve(root, '.' + url.slice('/shared-models'.length));
    if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.statusCode = 404;
      res.end(`not found: ${url}`);
      return;
    }
    res.setHeader('Content-Type', types[extname(file)] ?? 'application/octet-stream');
    createReadStream(file).pipe(res);
  };
  return {
    name: 'orderembed-shared-models',
    configureServer: (server) => {
      if (existsSync(join(root))) server.middlewares.use(serve);
    },
    configurePreviewServer: (server) => {
      if (existsSync(join(root))) server.middlewares.use(serve);
    },
  };
}

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
  plugins: [react(), sharedModels(), buildInfo()],
  // The tfjs wasm binaries are served from public/tfjs-wasm/ (copied by scripts/copy-wasm.mjs),
  // so the page works offline and never fetches from a CDN.
  worker: { format: 'es' },
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
  },
});
