/**
 * Text files of unknown encoding (caption files, split lists picked by the user): UTF-8 when the bytes
 * are valid UTF-8 (a BOM is dropped), UTF-16 when a UTF-16 BOM says so, otherwise Windows-1252 (the
 * Latin-1 superset that editors save as "ANSI"), with a note saying so, instead of U+FFFD replacement
 * characters ("caf� na�ve"). Bytes that cannot be text (NUL bytes without a UTF-16 BOM) are refused.
 */

export interface DecodedText {
  text: string;
  /** The encoding used: 'utf-8', 'utf-16le', 'utf-16be' or 'windows-1252'. */
  encoding: string;
  /** Set when the file was not UTF-8: what was done and why. */
  note?: string;
}

/** The byte offset of the first invalid UTF-8 sequence, or -1 when the bytes are valid UTF-8. */
export function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i];
    const n =
      c < 0x80
        ? 0
        : c >= 0xc2 && c <= 0xdf
          ? 1
          : c >= 0xe0 && c <= 0xef
            ? 2
            : c >= 0xf0 && c <= 0xf4
              ? 3
              : -1;
    if (n < 0) return i;
    if (i + n >= b.length && n > 0) return i;
    for (let k = 1; k <= n; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    // Overlong 3-byte, surrogates, and past U+10FFFF.
    if ((c === 0xe0 && b[i + 1] < 0xa0) || (c === 0xed && b[i + 1] > 0x9f)) return i;
    if ((c === 0xf0 && b[i + 1] < 0x90) || (c === 0xf4 && b[i + 1] > 0x8f)) return i;
    i += n + 1;
  }
  return -1;
}

/** Decodes a text file's bytes; `name` names it in the note and in the error for binary data. */
export function decodeTextFile(bytes: Uint8Array, name: string): DecodedText {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'utf-8' };
  if (bytes[0] === 0xff && bytes[1] === 0xfe)
    return {
      text: new TextDecoder('utf-16le').decode(bytes.subarray(2)),
      encoding: 'utf-16le',
      note: `${name}: UTF-16 (little-endian, by its byte-order mark), read as such`,
    };
  if (bytes[0] === 0xfe && bytes[1] === 0xff)
    return {
      text: new TextDecoder('utf-16be').decode(bytes.subarray(2)),
      encoding: 'utf-16be',
      note: `${name}: UTF-16 (big-endian, by its byte-order mark), read as such`,
    };
  const nul = bytes.indexOf(0);
  if (nul >= 0)
    throw new Error(`${name}: not a text file (a NUL byte at offset ${nul}); expected UTF-8 or Latin-1 text`);
  const bad = firstInvalidUtf8(bytes);
  if (bad < 0) return { text: new TextDecoder('utf-8').decode(bytes), encoding: 'utf-8' };
  const line = bytes.subarray(0, bad).reduce((n, c) => n + (c === 0x0a ? 1 : 0), 1);
  return {
    text: new TextDecoder('windows-1252').decode(bytes),
    encoding: 'windows-1252',
    note:
      `${name}: not UTF-8 (byte 0x${bytes[bad].toString(16).toUpperCase().padStart(2, '0')} on line ${line}); ` +
      `read as Latin-1 (Windows-1252): save it as UTF-8 if its accents look wrong`,
  };
}
