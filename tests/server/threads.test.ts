/**
 * Threads in the browser (issue 18), the parts that need no browser: the cross-origin isolation headers,
 * the build patch that hands tfjs's pthread workers their glue unminified, `?threads=N`, and the store's
 * record of the thread fields of 'ready'. The browser side is tests/e2e/threads.e2e.test.ts.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { securityHeaders } from '../../scripts/lib/vite-security-headers';
import { patchThreadedGlue } from '../../scripts/lib/vite-tfjs-threads';
import { threadsFromUrl } from '../../src/ui/client';
import { initialState, reduceEvent } from '../../src/ui/store';

const require = createRequire(import.meta.url);
const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));

describe('threads', () => {
  it('serves every response cross-origin isolated, with blob: scripts for the pthread workers', () => {
    for (const dev of [false, true]) {
      const h = securityHeaders(dev);
      expect(h['Cross-Origin-Opener-Policy']).toBe('same-origin');
      expect(h['Cross-Origin-Embedder-Policy']).toBe('require-corp');
      expect(h['Content-Security-Policy']).toMatch(/script-src 'self' 'wasm-unsafe-eval' blob:/);
    }
  });

  it("replaces tfjs 4.22's minifiable glue expression with the glue file's own text", () => {
    const id = join(wasmDist, 'dist', 'backend_wasm.js');
    const code = readFileSync(id, 'utf8');
    const out = patchThreadedGlue(code, id);
    expect(out).not.toMatch(/wasmFactoryThreadedSimd\.toString\(\)/);
    expect(out).toMatch(
      /^import __threadedSimdGlue from '\.\.\/wasm-out\/tfjs-backend-wasm-threaded-simd\.js\?raw';/,
    );
    expect(out).toMatch(/new Blob\(\[__threadedSimdGlue\]/);
    // The raw glue defines the name tfjs's pthread worker script calls.
    const glue = readFileSync(join(wasmDist, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js'), 'utf8');
    expect(glue).toMatch(/^var WasmBackendModuleThreadedSimd = /m);
    expect(() => patchThreadedGlue('export const x = 1;', 'other.js')).toThrow(
      /other\.js: .*vite-tfjs-threads/,
    );
  });

  it('reads ?threads=N, ignoring anything but a positive integer', () => {
    expect(threadsFromUrl('?scenes=40&threads=2')).toBe(2);
    expect(threadsFromUrl('?threads=1')).toBe(1);
    for (const bad of ['', '?threads=0', '?threads=-3', '?threads=1.5', '?threads=many'])
      expect(threadsFromUrl(bad)).toBeUndefined();
  });

  it('carries the thread count and the reason into the store', () => {
    const ready = {
      type: 'ready',
      backend: 'wasm',
      reason: 'auto',
      threads: 1,
      threadsWhy: 'not isolated',
    } as const;
    const s = reduceEvent(initialState(), ready);
    expect(s).toMatchObject({ backend: 'wasm', backendThreads: 1, threadsWhy: 'not isolated' });
    expect(reduceEvent(initialState(), { type: 'ready', backend: 'webgl', reason: 'x' })).toMatchObject({
      backendThreads: null,
      threadsWhy: null,
    });
  });
});
