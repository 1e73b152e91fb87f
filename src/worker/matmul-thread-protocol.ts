/**
 * What the training worker and its matMul helper threads share (./matmul-threads.ts has the protocol),
 * apart so that the helpers' bundle holds no tfjs.
 */

/** Slots of the control array. */
export const CTL = { GEN: 0, DONE: 1, A: 2, BP: 3, C: 4, M: 5, K: 6, N: 7, TMP: 8, BLOCK: 9 } as const;
export const CTL_LENGTH = 16;

/** What a helper is sent to start. */
export interface HelperInit {
  memory: WebAssembly.Memory;
  ctl: SharedArrayBuffer;
  /** The kernel's bytes for a shared memory (base64). */
  bytes: string;
  /** Its block of every product: rows [index * block, (index + 1) * block). */
  index: number;
}

/** A helper's answer to its init: started, or why not. */
export type HelperReady = { ok: true } | { ok: false; error: string };
