/**
 * Node-side backend set-up for the scripts: tfjs's wasm backend reads its binaries from the installed
 * package folder (no network).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { initBackend, type BackendName } from '../../src/model/backend';

const require = createRequire(import.meta.url);

export function wasmDir(): string {
  return (
    path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep
  );
}

/** Initialise `name` ('wasm' by default; 'cpu' also works in Node). */
export async function initNodeBackend(name: BackendName = 'wasm'): Promise<string> {
  if (name !== 'wasm' && name !== 'cpu')
    throw new Error(`backend '${name}' is not available in Node; use wasm or cpu`);
  return initBackend(name, { wasmPath: wasmDir() });
}
