/**
 * Makes tfjs-backend-wasm's threaded build survive minification (issue 18).
 *
 * tfjs 4.22 starts its pthread workers (Emscripten) by handing them the wasm glue as a Blob of
 * `'var WasmBackendModuleThreadedSimd = ' + wasmFactoryThreadedSimd.toString()`: the source text of the
 * factory function as it is in the bundle. Minified, that function refers to variables of the scope
 * around it (the glue's `_scriptDir`, renamed, its `typeof` guard folded away; the CommonJS shims), which
 * do not exist in the pthread worker, so every thread dies with "ReferenceError: e is not defined" and
 * the backend never comes up. This plugin replaces that expression with the glue file's own source text
 * (a `?raw` import: unminified, self-contained, and defining the same `WasmBackendModuleThreadedSimd`),
 * so the threads run exactly the code the main thread runs.
 *
 * Used for the app and for its worker bundles (vite.config.ts); fails the build, naming the file, when
 * tfjs's code no longer has the expression (a tfjs upgrade must look at this again).
 */
import type { Plugin } from 'vite';

/** The module that builds the Blob, and the expression it builds it from. */
const TARGET = /@tensorflow[/\\]tfjs-backend-wasm[/\\]dist[/\\]backend_wasm\.js$/;
const EXPRESSION = /`var WasmBackendModuleThreadedSimd = `\s*\+\s*wasmFactoryThreadedSimd\.toString\(\)/;
const RAW = '../wasm-out/tfjs-backend-wasm-threaded-simd.js?raw';

/** The transformed source of backend_wasm.js; throws when the expression is missing. */
export function patchThreadedGlue(code: string, id: string): string {
  if (!EXPRESSION.test(code)) {
    throw new Error(
      `${id}: the threaded wasm glue expression (wasmFactoryThreadedSimd.toString()) was not found; ` +
        'scripts/lib/vite-tfjs-threads.ts must be updated for this tfjs version',
    );
  }
  return `import __threadedSimdGlue from '${RAW}';\n` + code.replace(EXPRESSION, '__threadedSimdGlue');
}

export function tfjsThreadsPlugin(): Plugin {
  return {
    name: 'orderembed-tfjs-threads',
    transform(code, id) {
      if (!TARGET.test(id.split('?')[0]!)) return null;
      return { code: patchThreadedGlue(code, id), map: null };
    },
  };
}
