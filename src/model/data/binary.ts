/**
 * Little-endian float32 files (pack features, model weights) to and from typed arrays, with no Node or
 * DOM APIs. On the usual little-endian hosts this is a copy; elsewhere bytes are swapped through a
 * DataView.
 */

/** Bytes that may hold a binary file: an ArrayBuffer, or a view of one (Node's Buffer, Uint8Array). */
export type Bytes = ArrayBuffer | ArrayBufferView;

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes as a Uint8Array view (no copy). */
export function asUint8(bytes: Bytes): Uint8Array {
  return ArrayBuffer.isView(bytes)
    ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    : new Uint8Array(bytes);
}

/** Bytes per stored value of each storage type (weights and pack features). */
export const BYTES_PER_VALUE = { float32: 4, float16: 2 } as const;

/**
 * The bytes as Uint8Array and the number of `width`-byte values to read from `byteOffset` (`count`, or
 * all that fit); throws naming `what` when the bytes are too few.
 */
function valueRange(
  bytes: Bytes,
  what: string,
  byteOffset: number,
  count: number | undefined,
  width: number,
): { u8: Uint8Array; n: number } {
  const u8 = asUint8(bytes);
  const n = count ?? Math.floor((u8.byteLength - byteOffset) / width);
  if (byteOffset < 0 || byteOffset + n * width > u8.byteLength) {
    throw new Error(
      `${what}: needs bytes ${byteOffset}..${byteOffset + n * width} but the data holds ${u8.byteLength} bytes`,
    );
  }
  return { u8, n };
}

/** float32 values -> a new ArrayBuffer holding them little-endian. */
export function float32ToLittleEndian(values: Float32Array): ArrayBuffer {
  const out = new ArrayBuffer(values.length * 4);
  if (HOST_LITTLE_ENDIAN) new Float32Array(out).set(values);
  else {
    const view = new DataView(out);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  }
  return out;
}

/**
 * Reads `count` little-endian float32 values starting at byte `byteOffset` into a new Float32Array.
 * Throws naming `what` when the bytes are too few.
 */
export function float32FromLittleEndian(
  bytes: Bytes,
  what: string,
  byteOffset = 0,
  count?: number,
): Float32Array {
  const { u8, n } = valueRange(bytes, what, byteOffset, count, 4);
  const out = new Float32Array(n);
  if (HOST_LITTLE_ENDIAN) new Uint8Array(out.buffer).set(u8.subarray(byteOffset, byteOffset + n * 4));
  else {
    const view = new DataView(u8.buffer, u8.byteOffset + byteOffset, n * 4);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

/** The text of a file given as a string or as UTF-8 bytes. */
export function asText(content: string | Bytes): string {
  return typeof content === 'string' ? content : new TextDecoder().decode(asUint8(content));
}

/*
 * IEEE 754 half precision (float16), for compact weight files (the shipped starter model). float16 has
 * a 10-bit mantissa: relative error at most 2^-11 (about 5e-4) for |x| in [6.1e-5, 65504]; smaller
 * magnitudes become subnormals (absolute step 2^-24), larger ones infinity. No tfjs op reads float16, so
 * the values are widened to float32 on load.
 */
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The float16 bit pattern of `x`, rounded to nearest, ties to even (as numpy's astype(float16)). */
export function float16Bits(x: number): number {
  F32[0] = x;
  const bits = U32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp32 = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp32 === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0); // infinity, NaN (quiet)
  const exp = exp32 - 127 + 15; // re-biased exponent
  if (exp >= 0x1f) return sign | 0x7c00; // overflow: infinity
  if (exp <= 0) {
    // Subnormal half: value = m * 2^-24, m = (1.mant * 2^23) >> (14 - exp).
    if (exp < -10) return sign; // below half the smallest subnormal: signed zero
    mant |= 0x800000;
    const shift = 14 - exp;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    return sign | (half + (rest > halfway || (rest === halfway && (half & 1) === 1) ? 1 : 0));
  }
  const half = (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and 65520+ rounds to infinity).
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1) ? 1 : 0));
}

/** The number a float16 bit pattern stands for. */
export function float16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return mant !== 0 ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** float32 values -> a new ArrayBuffer holding them as little-endian float16 (2 bytes each). */
export function float16ToLittleEndian(values: Float32Array): ArrayBuffer {
  const out = new ArrayBuffer(values.length * 2);
  const view = new DataView(out);
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, float16Bits(values[i]), true);
  return out;
}

/**
 * Reads `count` little-endian float16 values starting at byte `byteOffset`, widened into a new
 * Float32Array. Throws naming `what` when the bytes are too few.
 */
export function float16FromLittleEndian(
  bytes: Bytes,
  what: string,
  byteOffset = 0,
  count?: number,
): Float32Array {
  const { u8, n } = valueRange(bytes, what, byteOffset, count, 2);
  const view = new DataView(u8.buffer, u8.byteOffset + byteOffset, n * 2);
  const out = new Float32Array(n);
  // A 65536-entry table would be faster; at 6.5M weights this loop takes well under a second.
  for (let i = 0; i < n; i++) out[i] = float16Value(view.getUint16(i * 2, true));
  return out;
}
