import { describe, expect, it } from 'vitest';
import { decodeTextFile, firstInvalidUtf8 } from '../../src/model/data/text-decode';

const latin1 = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));

describe('decodeTextFile', () => {
  it('reads UTF-8 (with or without a BOM) as it is', () => {
    const utf8 = new TextEncoder().encode('a café, naïve\n');
    expect(decodeTextFile(utf8, 'captions.txt')).toEqual({ text: 'a café, naïve\n', encoding: 'utf-8' });
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8]);
    expect(decodeTextFile(bom, 'captions.txt').text).toBe('a café, naïve\n');
  });

  it('reads Latin-1 as Latin-1, saying so with the line of the first non-UTF-8 byte', () => {
    const d = decodeTextFile(latin1('a dog\ncafé naïve\n'), 'captions.txt');
    expect(d.text).toBe('a dog\ncafé naïve\n');
    expect(d.encoding).toBe('windows-1252');
    expect(d.note).toMatch(/captions\.txt: not UTF-8 \(byte 0xE9 on line 2\); read as Latin-1/);
  });

  it('reads UTF-16 by its BOM and refuses binary data', () => {
    const le = new Uint8Array([0xff, 0xfe, 0x63, 0, 0xe9, 0]);
    expect(decodeTextFile(le, 'c.txt').text).toBe('cé');
    expect(() => decodeTextFile(new Uint8Array([0x50, 0x4b, 0, 1]), 'c.txt')).toThrow(
      /c\.txt: not a text file \(a NUL byte at offset 2\)/,
    );
  });

  it('finds invalid UTF-8: truncated, overlong and surrogate sequences', () => {
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0xc3]))).toBe(1);
    expect(firstInvalidUtf8(new Uint8Array([0xc0, 0x80]))).toBe(0);
    expect(firstInvalidUtf8(new Uint8Array([0xed, 0xa0, 0x80]))).toBe(0);
    expect(firstInvalidUtf8(new TextEncoder().encode('ok 🙂'))).toBe(-1);
  });
});
