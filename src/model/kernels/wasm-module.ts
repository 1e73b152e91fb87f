/**
 * The WebAssembly SIMD modules of the host kernels (lnHost.wat, ovHost.wat, ../training/adamHost.wat,
 * ../parallel/sumHost.wat) are shipped as base64 strings (`npm run build:wasm` writes the
 * *.wasm-bytes.ts files), so that the page, the worker, Node and the tests load them with no fetch and
 * no bundler plugin.
 */

/** The module whose bytes `base64` holds (synchronous: the modules are a few KB). */
export function wasmModule(base64: string): WebAssembly.Module {
  return new WebAssembly.Module(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
}

/**
 * A getter of the exports of a module with no imports, instantiated at its first call; null where this
 * runtime cannot compile it (no WebAssembly SIMD).
 */
export function lazyInstance<T>(base64: string): () => T | null {
  let exports: T | null | undefined; // undefined: not tried yet
  return () => {
    if (exports === undefined) {
      try {
        exports = new WebAssembly.Instance(wasmModule(base64)).exports as unknown as T;
      } catch {
        exports = null;
      }
    }
    return exports;
  };
}

/**
 * A getter of the exports of a module that imports its memory (`env.memory`), instantiated on each
 * memory at its first call with it and kept for that memory; null where this runtime cannot compile the
 * module (no WebAssembly SIMD) or the memory does not fit the import (its limits, shared or not).
 */
export function memoryInstance<T>(base64: string): (memory: WebAssembly.Memory) => T | null {
  let compiled: WebAssembly.Module | null | undefined; // undefined: not tried yet
  const instances = new WeakMap<WebAssembly.Memory, T>();
  return (memory) => {
    const known = instances.get(memory);
    if (known) return known;
    if (compiled === undefined) {
      try {
        compiled = wasmModule(base64);
      } catch {
        compiled = null;
      }
    }
    if (!compiled) return null;
    let exports: T;
    try {
      exports = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as T;
    } catch {
      return null; // a memory whose limits the import does not take
    }
    instances.set(memory, exports);
    return exports;
  };
}

/**
 * What the host kernels use of tfjs's wasm backend (public methods, and its Emscripten module, which
 * tfjs's exports leave untyped).
 */
export interface WasmBackendInternals {
  /** The memory: the module's export (single-threaded builds) or the one it imports (threaded). */
  wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown };
  getMemoryOffset(dataId: unknown): number;
  /** A new tensor's storage on the heap, not initialized. */
  makeOutput(shape: number[], dtype: 'float32'): { dataId: object; shape: number[]; dtype: 'float32' };
  disposeData(dataId: unknown): boolean;
  refCount(dataId: unknown): number;
}

/** Whether `memory` is shared (tfjs's threaded build's), so a module must import it as shared. */
export function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/** The memory of tfjs's wasm backend `backend`, or null where it is not found. */
export function wasmBackendMemory(backend: WasmBackendInternals): WebAssembly.Memory | null {
  const memory = backend.wasm?.asm?.memory ?? backend.wasm?.wasmMemory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

/** Largest memory a call may ask for: 2 GiB, so that every byte offset is a non-negative i32. */
export const MAX_BYTES = 2 ** 31;

/** A WebAssembly memory page, in bytes. */
export const WASM_PAGE = 65536;

/** Successive regions of a module's memory, in bytes, each aligned to 16 (v128 loads). */
export class MemoryLayout {
  private end = 0;
  take(bytes: number): number {
    const at = this.end;
    this.end += Math.ceil(bytes / 16) * 16;
    return at;
  }
  /** `memory`'s buffer, grown to hold every region taken; null where it cannot grow that far. */
  buffer(memory: WebAssembly.Memory): ArrayBuffer | null {
    if (this.end > MAX_BYTES) return null;
    const short = this.end - memory.buffer.byteLength;
    if (short > 0) {
      try {
        memory.grow(Math.ceil(short / WASM_PAGE));
      } catch {
        return null;
      }
    }
    return memory.buffer;
  }
}
