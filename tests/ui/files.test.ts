// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import {
  droppedFolder,
  imageFileError,
  isImageFile,
  pickedFolder,
  queryError,
  safeFileName,
  stripTopFolder,
} from '../../src/ui/files';

function relFile(rel: string, type = ''): File {
  const f = new File(['x'], rel.split('/').pop()!, { type });
  Object.defineProperty(f, 'webkitRelativePath', { value: rel });
  return f;
}

interface FakeEntry {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  fullPath: string;
  file?: (ok: (f: File) => void) => void;
  createReader?: () => { readEntries: (ok: (e: unknown[]) => void) => void };
}

/** A fake file-system entry tree, as webkitGetAsEntry gives for a dropped folder. */
function entry(fullPath: string, children?: FakeEntry[]): FakeEntry {
  const name = fullPath.split('/').pop()!;
  if (!children)
    return {
      isFile: true,
      isDirectory: false,
      name,
      fullPath,
      file: (ok: (f: File) => void) => ok(new File(['x'], name)),
    };
  // readEntries hands out the children in chunks of 2, then an empty chunk.
  return {
    isFile: false,
    isDirectory: true,
    name,
    fullPath,
    createReader: () => {
      let i = 0;
      return {
        readEntries: (ok: (e: unknown[]) => void) => {
          ok(children.slice(i, i + 2));
          i += 2;
        },
      };
    },
  };
}

const dataTransfer = (entries: unknown[]) =>
  ({
    items: entries.map((e) => ({ kind: 'file', webkitGetAsEntry: () => e })),
    files: [],
  }) as unknown as DataTransfer;

describe('files', () => {
  it('recognises photos by type, else by extension', () => {
    expect(isImageFile({ name: 'a.bin', type: 'image/jpeg' })).toBe(true);
    expect(isImageFile({ name: 'a.JPG', type: '' })).toBe(true);
    expect(isImageFile({ name: 'a.txt', type: '' })).toBe(false);
    expect(isImageFile({ name: 'a.svg', type: 'image/svg+xml' })).toBe(false);
    expect(imageFileError(null)).toMatch(/Choose a photo/);
    expect(imageFileError({ name: 'e.png', type: 'image/png', size: 0 })).toMatch(/“e\.png” is empty/);
    expect(imageFileError({ name: 'ok.png', type: 'image/png', size: 10 })).toBeNull();
  });

  it('checks queries', () => {
    expect(queryError('')).toMatch(/empty/);
    expect(queryError('a dog')).toBeNull();
    expect(queryError('x'.repeat(501), 'Sentence A')).toMatch(/^Sentence A is too long: 501 characters/);
  });

  it('takes a picked folder’s paths without the top folder, skipping hidden files', () => {
    expect(stripTopFolder('Flickr8k/Images/1.jpg')).toBe('Images/1.jpg');
    expect(stripTopFolder('/top/a.txt')).toBe('a.txt');
    const { name, files } = pickedFolder([
      relFile('Flickr8k/Images/1.jpg'),
      relFile('Flickr8k/captions.txt'),
      relFile('Flickr8k/.DS_Store'),
      relFile('Flickr8k/__MACOSX/x.jpg'),
    ]);
    expect(name).toBe('Flickr8k');
    expect(files.map((f) => f.path)).toEqual(['Images/1.jpg', 'captions.txt']);
  });

  it('walks a dropped folder, reading every chunk of entries', async () => {
    const tree = entry('/Flickr8k', [
      entry('/Flickr8k/captions.txt'),
      entry('/Flickr8k/Images', [
        entry('/Flickr8k/Images/1.jpg'),
        entry('/Flickr8k/Images/2.jpg'),
        entry('/Flickr8k/Images/3.jpg'),
      ]),
      entry('/Flickr8k/.hidden'),
    ]);
    const { name, files } = await droppedFolder(dataTransfer([tree]));
    expect(name).toBe('Flickr8k');
    expect(files.map((f) => f.path)).toEqual([
      'captions.txt',
      'Images/1.jpg',
      'Images/2.jpg',
      'Images/3.jpg',
    ]);
  });

  it('takes dropped files as they are', async () => {
    const { files } = await droppedFolder(dataTransfer([entry('/a.jpg'), entry('/captions.txt')]));
    expect(files.map((f) => f.path)).toEqual(['a.jpg', 'captions.txt']);
  });

  it('makes safe download names', () => {
    expect(safeFileName('LN-GRU (imported)')).toBe('LN-GRU-imported');
    expect(safeFileName('a/b\\c')).toBe('a-b-c');
    expect(safeFileName('///')).toBe('run');
  });
});
