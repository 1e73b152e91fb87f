/**
 * Backend selection for the model core. No DOM and no Node APIs here: the caller says where the tfjs
 * wasm binaries are (a URL path in the browser, a folder in Node; see scripts/node-backend.ts).
 */
import * as tf from './tf';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export type BackendName = 'wasm' | 'cpu' | 'webgl' | 'webgpu';

export interface BackendOptions {
  /** Folder or URL prefix that holds tfjs-backend-wasm's *.wasm files (ends with '/'). */
  wasmPath?: string;
}

/**
 * Make `preferred` the active tfjs backend and return its name. The webgl and webgpu backends are
 * imported lazily so that Node never loads them.
 */
export async function initBackend(
  preferred: BackendName = 'wasm',
  opts: BackendOptions = {},
): Promise<string> {
  if (preferred === 'wasm') {
    if (opts.wasmPath) setWasmPaths(opts.wasmPath);
  } else if (preferred === 'webgpu') {
    await import('@tensorflow/tfjs-backend-webgpu');
  } else if (preferred === 'webgl') {
    // tfjs-backend-webgl is part of the @tensorflow/tfjs bundle.
    // webgl is registered by @tensorflow/tfjs (see ./tf).
  }
  const ok = await tf.setBackend(preferred);
  if (!ok) throw new Error(`tfjs backend '${preferred}' could not be initialised`);
  await tf.ready();
  return tf.getBackend();
}
