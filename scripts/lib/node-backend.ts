/**
 * Node-side backend set-up for the scripts: tfjs's wasm backend reads its binaries from the installed
 * package folder (no network).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';
import { initBackend, MATMUL_CHOICES, type BackendName, type MatMulChoice } from '../../src/model/backend';

// Relaxed SIMD (the fused multiply-add of src/model/kernels/matmulHost.wat) is on by default from
// Node 22 (V8 11.4); Node 20's V8 has it behind this flag. Set before any module compiles; harmless
// where it is already on.
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const require = createRequire(import.meta.url);

export function wasmDir(): string {
  return (
    path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep
  );
}

/**
 * The matMul kernel ORDEREMBED_MATMUL asks for (src/model/backend.ts BackendOptions.matMul: 'host' by
 * default; 'xnnpack' is tfjs's own, for side-by-side measurements). Read in every thread of the Node
 * pool, whose workers share the environment.
 */
export function matMulFromEnv(env: NodeJS.ProcessEnv = process.env): MatMulChoice {
  const v = env.ORDEREMBED_MATMUL;
  if (v === undefined || v === '') return 'host';
  if (!(MATMUL_CHOICES as readonly string[]).includes(v))
    throw new Error(`ORDEREMBED_MATMUL='${v}' is not one of ${MATMUL_CHOICES.join(', ')}`);
  return v as MatMulChoice;
}

/** Initialise `name` ('wasm' by default; 'cpu' also works in Node). */
export async function initNodeBackend(name: BackendName = 'wasm'): Promise<string> {
  if (name !== 'wasm' && name !== 'cpu')
    throw new Error(`backend '${name}' is not available in Node; use wasm or cpu`);
  return initBackend(name, { wasmPath: wasmDir(), matMul: matMulFromEnv() });
}
