/**
 * Where our matMul kernel's large products run on several threads: a shared WebAssembly memory, the
 * stage, that the page's training worker and its helper threads (../../worker/matmul-threads.ts) each
 * run the kernel on. tfjs's wasm heap stays the single-threaded build's own: tfjs's threaded build
 * (whose heap is shared) ran the rest of a step about 17% slower at the playground's default size, its
 * own ops on one thread included (docs/benchmarks.md), so the page runs the single-threaded build and
 * a product split over threads is staged instead:
 *
 *   B [K, N]   heap -> stage, packed into panels there (kept, as on the heap: ./matmul-packings.ts)
 *   A [M, K]   heap -> stage;  C [M, N] = A B by rows over the threads;  C  stage -> heap
 *
 * The copies are O(M K + M N) against the product's O(M K N): about 1% of a product at K = 128, the
 * smallest K split at the default size. Each element of C is computed as it would be alone on tfjs's
 * heap (the kernel's digits depend on neither the rows beside it nor where the operands lie), so a
 * product has the same digits on any number of threads.
 */
import type { MatMulExports } from './matmul-host';
import type { MatMulBuild } from './matmul-choice';
import { packedB, scratchOffset, type Block, type PackedB } from './matmul-packings';
import { WASM_PAGE } from './wasm-module';

/** One product for a {@link RowSplitter}: byte offsets in the stage; `tmp`: 32 bytes of scratch per thread. */
export interface GemmJob {
  a: number;
  bp: number;
  c: number;
  M: number;
  K: number;
  N: number;
  tmp: number;
}

/**
 * A product's row blocks on several threads, on a stage: `run` computes C = A B for the B already
 * packed at `bp`, the calling thread taking the first block of rows and the others one each, and
 * returns when all are done.
 */
export interface RowSplitter {
  /** Threads it runs on, the calling one included. */
  readonly threads: number;
  readonly stage: MatMulStage;
  run(job: GemmJob): void;
}

/** Most the stage grows to: 1 GiB (a product that does not fit runs on tfjs's heap, on one thread). */
const STAGE_MAX_PAGES = 16384;

/** Blocks start at multiples of this (v128 loads; a cache line). */
const ALIGN = 64;

const f32 = (memory: WebAssembly.Memory, at: number, n: number) => new Float32Array(memory.buffer, at, n);

/** A shared memory, the kernel on it, and its blocks (first fit; freed blocks merge with their neighbours). */
export class MatMulStage {
  readonly memory: WebAssembly.Memory;
  /** Free regions [at, at + size), by address; everything from `top` on is free too. */
  private free: { at: number; size: number }[] = [];
  private top = ALIGN;

  /**
   * A stage with `kernel(memory)`, `build` of the kernel for a shared memory (the build its helper
   * threads instantiate too), growing to `maxPages` pages of 64 KiB; null where it does not instantiate.
   */
  static create(
    build: MatMulBuild,
    kernel: (memory: WebAssembly.Memory) => MatMulExports | null,
    maxPages = STAGE_MAX_PAGES,
  ): MatMulStage | null {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: maxPages, shared: true });
    const k = kernel(memory);
    return k && new MatMulStage(memory, build, k);
  }

  private constructor(
    memory: WebAssembly.Memory,
    readonly build: MatMulBuild,
    readonly kernel: MatMulExports,
  ) {
    this.memory = memory;
  }

  /** Bytes in use or kept free below the top (tests: what is left after the products). */
  get used(): number {
    return this.top - ALIGN - this.free.reduce((n, f) => n + f.size, 0);
  }

  /** `bytes` of the stage (growing it where needed), or null where it cannot grow that far. */
  alloc(bytes: number): Block | null {
    const size = Math.ceil(bytes / ALIGN) * ALIGN;
    const i = this.free.findIndex((f) => f.size >= size);
    let at: number;
    if (i >= 0) {
      const f = this.free[i];
      at = f.at;
      if (f.size === size) this.free.splice(i, 1);
      else this.free[i] = { at: f.at + size, size: f.size - size };
    } else {
      const short = this.top + size - this.memory.buffer.byteLength;
      if (short > 0) {
        try {
          this.memory.grow(Math.ceil(short / WASM_PAGE));
        } catch {
          return null; // past STAGE_MAX_PAGES, or no memory
        }
      }
      at = this.top;
      this.top += size;
    }
    let freed = false;
    return {
      at,
      free: () => {
        if (freed) return;
        freed = true;
        this.release(at, size);
      },
    };
  }

  private release(at: number, size: number): void {
    const list = this.free;
    let i = list.findIndex((f) => f.at > at);
    if (i < 0) i = list.length;
    list.splice(i, 0, { at, size });
    // Merge with the next block, then with the previous one.
    if (i + 1 < list.length && list[i].at + list[i].size === list[i + 1].at) {
      list[i].size += list[i + 1].size;
      list.splice(i + 1, 1);
    }
    if (i > 0 && list[i - 1].at + list[i - 1].size === list[i].at) {
      list[i - 1].size += list[i].size;
      list.splice(i, 1);
      i--;
    }
    // A free block at the top lowers the top.
    const last = list[list.length - 1];
    if (last && last.at + last.size === this.top) {
      this.top = last.at;
      list.pop();
    }
  }

  /**
   * C [M, N] = A [M, K] B [K, N] from and to `heap` (`at`: their byte offsets there; B's packing kept
   * by `bKey` when `keep`), its rows split by `splitter` over its threads. False, having written nothing, where the
   * stage cannot hold the operands (the caller then multiplies on the heap).
   */
  multiply(
    splitter: RowSplitter,
    heap: WebAssembly.Memory,
    bKey: unknown,
    at: { a: number; b: number; c: number },
    M: number,
    K: number,
    N: number,
    keep: boolean,
  ): boolean {
    const panels: PackedB | null = packedB(
      this,
      (bytes) => this.alloc(bytes),
      bKey,
      K,
      N,
      keep,
      (to) => {
        const raw = this.alloc(4 * K * N);
        if (!raw) return false;
        f32(this.memory, raw.at, K * N).set(f32(heap, at.b, K * N));
        this.kernel.pack(raw.at, to, K, N);
        raw.free();
        return true;
      },
    );
    if (!panels) return false;
    const a = this.alloc(4 * M * K);
    const c = a && this.alloc(4 * M * N);
    if (!a || !c) {
      a?.free();
      panels.release();
      return false;
    }
    f32(this.memory, a.at, M * K).set(f32(heap, at.a, M * K));
    splitter.run({ a: a.at, bp: panels.at, c: c.at, M, K, N, tmp: panels.at + scratchOffset(K, N) });
    f32(heap, at.c, M * N).set(f32(this.memory, c.at, M * N));
    a.free();
    c.free();
    panels.release();
    return true;
  }
}
