/**
 * Our matMul kernel's B operands packed into 8-column panels (./matmulHost.wat `pack`), kept by tensor,
 * in whichever memory the product runs in: tfjs's heap (./matmul-host.ts) or the stage its helper
 * threads multiply in (./matmul-stage.ts). Each memory keeps its last {@link KEPT_PACKINGS} packings (up
 * to {@link KEPT_MAX_BYTES} each), by B's tensor storage (dataId) and shape, so that a B multiplied again
 * (W_hh in each of the GRU backward's T steps) is packed once, as XNNPACK keeps its packing of a weight
 * by tensor. That relies on what XNNPACK's cache relies on, and ../training/adam-host.ts keeps: no
 * tensor's values change in place (a new value is a new tensor).
 */

/** A region of a memory (byte offset), freed by `free`. */
export interface Block {
  at: number;
  free(): void;
}

/** Takes `bytes` of a memory, or answers null where it cannot. */
export type Alloc = (bytes: number) => Block | null;

/** Most threads a product is split over (scratch is kept for this many after each packing). */
export const MAX_SPLIT = 8;

/**
 * Three: W_hh and W_ih packed ahead of the backward (../gru-composite.ts packBackwardWeights), and
 * the one product's B between them (d W_hh's h_prev), so that W_ih is still packed for d x.
 */
const KEPT_PACKINGS = 3;

/**
 * Largest packing kept (bytes): W_hh at hidden 1024 is 12 MiB; a B beyond this (a whole gallery of
 * captions in a cosine model's scoring) is packed, used and freed, so kept packings never hold more
 * than 3 x 32 MiB of a memory.
 */
const KEPT_MAX_BYTES = 32 * 2 ** 20;

interface Packed {
  dataId: unknown;
  K: number;
  N: number;
  block: Block;
}

/** Packings kept per memory's owner (tfjs's backend, or a stage), most recent first. */
const kept = new WeakMap<object, Packed[]>();

/** Byte offset, from a packing's start, of the 32 bytes of scratch per thread after B [K, N]'s panels. */
export function scratchOffset(K: number, N: number): number {
  return 4 * K * Math.ceil(N / 8) * 8;
}

/** A B [K, N] in panels: their byte offset, and what to call once the product is done. */
export interface PackedB {
  at: number;
  release(): void;
}

/**
 * B [K, N] (tensor storage `dataId`) in panels in `owner`'s memory, with 32 bytes of scratch per thread
 * after them: a kept packing of the same storage and shape, else a new block from `alloc` that `fill`
 * packs (kept when `keep`, the oldest dropped). Null where `alloc` or `fill` could not.
 */
export function packedB(
  owner: object,
  alloc: Alloc,
  dataId: unknown,
  K: number,
  N: number,
  keep: boolean,
  fill: (at: number) => boolean,
): PackedB | null {
  const bytes = scratchOffset(K, N) + 32 * MAX_SPLIT;
  keep &&= 4 * K * N <= KEPT_MAX_BYTES;
  const list = kept.get(owner) ?? [];
  kept.set(owner, list);
  const hit = keep ? list.findIndex((p) => p.dataId === dataId && p.K === K && p.N === N) : -1;
  if (hit >= 0) {
    const [p] = list.splice(hit, 1);
    list.unshift(p);
    return { at: p.block.at, release: () => {} };
  }
  const block = alloc(bytes);
  if (!block) return null;
  if (!fill(block.at)) {
    block.free();
    return null;
  }
  if (!keep) return { at: block.at, release: () => block.free() };
  list.unshift({ dataId, K, N, block });
  for (const old of list.splice(KEPT_PACKINGS)) old.block.free();
  return { at: block.at, release: () => {} };
}

/** Frees the packings kept for `owner`. */
export function dropPackings(owner: object): void {
  for (const p of kept.get(owner) ?? []) p.block.free();
  kept.delete(owner);
}
