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
  const u8 = asUint8(bytes);
  const n = count ?? Math.floor((u8.byteLength - byteOffset) / 4);
  if (byteOffset < 0 || byteOffset + n * 4 > u8.byteLength) {
    throw new Error(
      `${what}: needs bytes ${byteOffset}..${byteOffset + n * 4} but the data holds ${u8.byteLength} bytes`,
    );
  }
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
