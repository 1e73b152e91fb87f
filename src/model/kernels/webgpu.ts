/**
 * What our own WGSL kernels share: access to tfjs's WebGPU backend, the device's limits, running a
 * program through `backend.runWebGPUProgram`, and the kernel state the UI shows.
 *
 * The kernels are `WebGPUProgram`s in the shape tfjs-backend-webgpu 4.x expects (`variableNames`,
 * `outputShape`, `dispatchLayout`, `dispatch`, `workgroupSize`, `uniforms`, `getUserCode`): tfjs prepends
 * the storage-buffer bindings, the uniform struct with every shape, and `_start`, which calls our `main`.
 * They run on tfjs's own device and command encoder, so their tensors mix freely with tfjs ops.
 *
 * Faults:
 * - shapes beyond the device's limits (`maxStorageBufferBindingSize` per tensor,
 *   `maxComputeWorkgroupsPerDimension` per dispatch) are either split by the caller into chunks or
 *   refused here with an Error that names the tensor, its size and the limit;
 * - a lost device (`device.lost`) turns the kernels off: the state becomes 'lost', a warning is logged,
 *   and every op picks its composite tfjs path from then on (`kernelState()`, `onKernelStateChange`).
 *   A lost device also takes tfjs's WebGPU backend with it, so the app should re-initialise a backend
 *   (e.g. wasm) when it sees the state change.
 */
import * as tf from '../tf';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export type { WebGPUProgram };

export type KernelStatus = 'ready' | 'unavailable' | 'lost' | 'disabled';

export interface KernelState {
  /** 'ready': our kernels run on the webgpu backend; otherwise the composite path is used. */
  status: KernelStatus;
  /** One line for people: why the kernels are (not) in use. */
  message: string;
}

export interface ProgramUniform {
  type: 'int32' | 'float32' | 'uint32';
  data: number[];
}

let state: KernelState = {
  status: 'unavailable',
  message: 'custom WebGPU kernels not used yet (they run only on the webgpu backend)',
};
let disabledByUser = false;
const listeners = new Set<(s: KernelState) => void>();
const watchedDevices = new WeakSet<GPUDevice>();

function setState(next: KernelState): void {
  if (next.status === state.status && next.message === state.message) return;
  state = next;
  for (const l of listeners) l(state);
}

/** Current kernel state (shown by the UI and printed by the benchmarks). */
export function kernelState(): KernelState {
  return state;
}

/** Calls `listener` on every change of the kernel state; returns the unsubscribe function. */
export function onKernelStateChange(listener: (s: KernelState) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Force the composite path (false) or allow the kernels again (true): for comparisons and tests. */
export function setKernelsEnabled(enabled: boolean): void {
  disabledByUser = !enabled;
  if (!enabled)
    setState({ status: 'disabled', message: 'custom WebGPU kernels turned off; composite tfjs ops' });
  else if (state.status === 'disabled')
    setState({ status: 'unavailable', message: 'custom WebGPU kernels on' });
}

/** The active tfjs backend when it is WebGPU, else null. */
function webgpuBackend(): WebGPUBackend | null {
  if (tf.getBackend() !== 'webgpu') return null;
  return tf.backend() as unknown as WebGPUBackend;
}

/** Watch the device once for loss: from then on every op uses its composite path. */
function watch(device: GPUDevice): void {
  if (watchedDevices.has(device)) return;
  watchedDevices.add(device);
  void device.lost.then((info) => {
    const message =
      `WebGPU device lost (${info.reason || 'unknown'}: ${info.message || 'no message'}); ` +
      'custom kernels off, falling back to the composite tfjs path';
    console.warn(`orderembed: ${message}`);
    setState({ status: 'lost', message });
  });
}

/**
 * The WebGPU backend if our kernels may run on it now, else null (other backend, device lost, or
 * turned off). Checked by every op that has a kernel path.
 */
export function kernelBackend(): WebGPUBackend | null {
  const b = webgpuBackend();
  if (!b) return null;
  if (state.status === 'lost') return null;
  if (disabledByUser) return null;
  watch(b.device);
  if (state.status !== 'ready') {
    setState({ status: 'ready', message: 'custom WebGPU kernels in use' });
  }
  return b;
}

/** True when the ops will take their kernel path (the backend is webgpu and its device is alive). */
export function kernelsActive(): boolean {
  return kernelBackend() !== null;
}

/** The limits our ops check; defaults are WebGPU's guaranteed minimums. */
export interface DeviceLimits {
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupsPerDimension: number;
}

let limitOverride: Partial<DeviceLimits> | null = null;

/** Pretend the device has (smaller) limits, to test the chunking on small shapes; null restores. */
export function overrideLimits(limits: Partial<DeviceLimits> | null): void {
  limitOverride = limits;
}

export function deviceLimits(backend = kernelBackend()): DeviceLimits {
  const l = backend?.device.limits;
  return {
    maxStorageBufferBindingSize: l?.maxStorageBufferBindingSize ?? 134217728,
    maxComputeWorkgroupsPerDimension: l?.maxComputeWorkgroupsPerDimension ?? 65535,
    ...limitOverride,
  };
}

const MiB = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/**
 * Throws a clear error when a tensor of `shape` (float32/int32) cannot be bound to one kernel:
 * `what` names it (e.g. "captions [M, D]").
 */
export function checkBinding(op: string, what: string, shape: readonly number[], limits: DeviceLimits): void {
  const bytes = 4 * shape.reduce((a, b) => a * b, 1);
  if (bytes > limits.maxStorageBufferBindingSize) {
    throw new Error(
      `${op}: ${what} [${shape}] needs ${MiB(bytes)}, above this device's maxStorageBufferBindingSize ` +
        `(${MiB(limits.maxStorageBufferBindingSize)}); pass it in smaller chunks`,
    );
  }
}

/** Throws when a dispatch is larger than the device allows in some dimension. */
export function checkDispatch(op: string, dispatch: readonly number[], limits: DeviceLimits): void {
  if (dispatch.some((d) => d > limits.maxComputeWorkgroupsPerDimension)) {
    throw new Error(
      `${op}: dispatch [${dispatch}] workgroups exceeds maxComputeWorkgroupsPerDimension ` +
        `(${limits.maxComputeWorkgroupsPerDimension})`,
    );
  }
}

/**
 * Run `program` on tfjs's WebGPU backend. Inputs are tensors; the result is a new tensor owned by the
 * caller, unless `into` is given: then the program writes into that existing tensor (used to fill one
 * output in several dispatches when a shape must be split) and `into` is returned.
 */
export function runProgram(
  backend: WebGPUBackend,
  program: WebGPUProgram,
  inputs: tf.Tensor[],
  uniforms: ProgramUniform[] = [],
  into?: tf.Tensor,
): tf.Tensor {
  // The shader key names the program (class names do not survive minification).
  const op = program.shaderKey;
  const limits = deviceLimits(backend);
  const maxBuffers = backend.device.limits.maxStorageBuffersPerShaderStage;
  if (inputs.length + 1 > maxBuffers) {
    throw new Error(
      `${op}: ${inputs.length} inputs + 1 output exceed this device's ` +
        `maxStorageBuffersPerShaderStage (${maxBuffers})`,
    );
  }
  inputs.forEach((t, i) => checkBinding(op, program.variableNames[i], t.shape, limits));
  checkBinding(op, 'output', program.outputShape, limits);
  checkDispatch(op, program.dispatch, limits);
  const info = backend.runWebGPUProgram(program, inputs, 'float32', uniforms, into);
  return into ?? tf.engine().makeTensorFromTensorInfo(info);
}

/** ceil(a / b) */
export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);
