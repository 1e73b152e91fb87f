/**
 * Adam in one pass on the wasm backend, with the digits of tfjs's AdamOptimizer (4.x). tfjs applies
 * Adam as about a dozen element-wise kernels per variable, each a full pass over the parameters
 * (66 ms a step for the 5.4 M parameters at hidden 1024, 8 ms here, 2026-12-06, docs/benchmarks.md);
 * ./adamHost.wat reads each gradient, moment and weight once and writes the moments where they are
 * and the weights into a new tensor.
 *
 * tfjs's update, per element, every operation rounded to float32 (Kingma & Ba 2015, Algorithm 1, with
 * epsilon added after the square root, as tfjs does):
 *
 *   g   = grad * scale                                  (only when clipping: scale = clip / norm < 1)
 *   m'  = m * b1 + g * (1 - b1)                         v' = v * b2 + g^2 * (1 - b2)
 *   w'  = (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps) * (-lr) + w
 *
 * then b1^t *= b1, b2^t *= b2 (tfjs's accBeta1/accBeta2 variables, updated with tfjs ops here too). The
 * module takes the same float32 operations in the same order (WebAssembly's are IEEE, as the wasm
 * backend's kernels are), so the result is bit for bit tfjs's; tests/model/training/adam-host.test.ts
 * compares them over several steps.
 *
 * The module imports the tfjs module's memory. It writes the moments in place, only where their
 * storage belongs to them alone (reference count 1: a held checkpoint keeps its own). The weights are
 * never written in place: the wasm backend caches XNNPACK's packed copy of a matMul's weight operand by
 * tensor, so a weight changed under the same tensor would be multiplied as it was (the bug this caused
 * showed at the second step); each variable is assigned a new tensor, as tfjs's own update does.
 * tfjs's threaded build (the page with threads) has a shared memory, which a module can only import
 * as shared: a second build of the same text does (scripts/lib/host-wasm.ts). No tfjs op runs while
 * the module does (both run on the calling thread, one after the other). Elsewhere (another backend,
 * shared moments, no WebAssembly SIMD) `adamOnHost` returns false, having changed nothing, and the
 * caller applies tfjs's optimizer.
 */
import * as tf from '../tf';
import { ADAM_HOST_WASM, ADAM_HOST_WASM_SHARED } from './adamHost.wasm-bytes';
import {
  isShared,
  memoryInstance,
  wasmBackendMemory,
  type WasmBackendInternals,
} from '../kernels/wasm-module';
import type { AdamInternals } from './update';

export interface AdamExports {
  adam(
    g: number,
    m: number,
    v: number,
    w: number,
    wOut: number,
    n: number,
    b1: number,
    b2: number,
    c1: number,
    c2: number,
    d1: number,
    d2: number,
    eps: number,
    negLr: number,
    scale: number,
    clip: number,
  ): void;
}

/** The build for a plain memory and the one for a shared memory (tfjs's threaded build). */
const plainKernel = memoryInstance<AdamExports>(ADAM_HOST_WASM);
const sharedKernel = memoryInstance<AdamExports>(ADAM_HOST_WASM_SHARED);

/** The module instantiated on `memory` (the build that matches it), or null where it cannot be. */
export function adamKernel(memory: WebAssembly.Memory): AdamExports | null {
  return (isShared(memory) ? sharedKernel : plainKernel)(memory);
}

/** The wasm backend's memory and the kernel on it, or null. */
function wasmKernel(): { backend: WasmBackendInternals; kernel: AdamExports } | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as unknown as WasmBackendInternals;
  const memory = wasmBackendMemory(backend);
  if (!memory) return null;
  const kernel = adamKernel(memory);
  return kernel && { backend, kernel };
}

/**
 * Applies one Adam step with `optimizer`'s state and settings to the variables named in `grads`
 * (gradients scaled by `scale`), as `optimizer.applyGradients` would, in place. Returns false, having
 * changed nothing, where it cannot; the caller then calls applyGradients. Does not free the gradients.
 */
export function adamOnHost(
  optimizer: tf.AdamOptimizer,
  grads: Record<string, tf.Tensor>,
  scale: number,
): boolean {
  const on = wasmKernel();
  if (!on) return false;
  const { backend, kernel } = on;
  const adam = optimizer as unknown as AdamInternals;
  const o = optimizer as unknown as { learningRate: number; beta1: number; beta2: number; epsilon: number };
  const names = Object.keys(grads);
  const variables = names.map((n) => tf.engine().registeredVariables[n]);
  if (variables.some((v, i) => !v || v.dtype !== 'float32' || grads[names[i]].size !== v.size)) return false;
  // Moments as tfjs makes them (zeros, by the gradient's position in `grads`), on first use.
  variables.forEach((value, i) => {
    adam.accumulatedFirstMoment[i] ??= {
      originalName: `${names[i]}/m`,
      variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
    };
    adam.accumulatedSecondMoment[i] ??= {
      originalName: `${names[i]}/v`,
      variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
    };
  });
  const moments = variables.map((_, i) => [
    adam.accumulatedFirstMoment[i].variable,
    adam.accumulatedSecondMoment[i].variable,
  ]);
  const owned = moments.every((pair) => pair.every((t) => backend.refCount(t.dataId) === 1));
  if (!owned) return false;
  // The scalars as tfjs makes them: float32 values of JS numbers; 1 - b^t by a float32 subtraction.
  const f32 = Math.fround;
  const d1 = f32(1 - adam.accBeta1.dataSync()[0]);
  const d2 = f32(1 - adam.accBeta2.dataSync()[0]);
  const at = (t: tf.Tensor) => backend.getMemoryOffset(t.dataId);
  variables.forEach((w, i) => {
    const [m, v] = moments[i];
    const next = tf.engine().makeTensorFromTensorInfo(backend.makeOutput([...w.shape], 'float32'));
    kernel.adam(
      at(grads[names[i]]),
      at(m),
      at(v),
      at(w),
      at(next),
      w.size,
      f32(o.beta1),
      f32(o.beta2),
      f32(1 - o.beta1),
      f32(1 - o.beta2),
      d1,
      d2,
      f32(o.epsilon),
      f32(-o.learningRate),
      f32(scale),
      scale !== 1 ? 1 : 0,
    );
    w.assign(next);
    next.dispose();
  });
  tf.tidy(() => {
    adam.accBeta1.assign(tf.mul(adam.accBeta1, o.beta1));
    adam.accBeta2.assign(tf.mul(adam.accBeta2, o.beta2));
  });
  adam.iterations_ = (adam.iterations_ ?? 0) + 1;
  return true;
}
