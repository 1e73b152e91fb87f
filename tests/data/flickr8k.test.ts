import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildFlickrDataset,
  detectCaptionFormat,
  limitImages,
  locateFlickrFiles,
  parseCaptionsCsv,
  parseFlickrToken,
  parseKarpathyJson,
  parseSplitList,
  seededSplit,
  splitSizeWarnings,
  batchWarning,
} from '../../src/model/data/flickr8k';
import { readFlickrFolder } from '../../scripts/lib/flickr-folder';
import { requireSharedDir } from '../helpers/shared';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'orderembed-flickr-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('parseCaptionsCsv', () => {
  it('splits on the first comma, unquotes CSV fields, skips blank lines and CRLF', () => {
    const text = [
      '\uFEFFimage,caption',
      'a.jpg,A dog runs , jumps , and barks .',
      'a.jpg,"A dog, quoted, with ""inner"" quotes ."',
      '',
      '"b c.jpg",A cat says " meow " .\r',
      'b c.jpg,"starts with a quote" but goes on',
      '',
    ].join('\n');
    const r = parseCaptionsCsv(text, 'captions.txt');
    expect(r.problems).toEqual([]);
    expect(r.rows).toEqual([
      { image: 'a.jpg', caption: 'A dog runs , jumps , and barks .', line: 2 },
      { image: 'a.jpg', caption: 'A dog, quoted, with "inner" quotes .', line: 3 },
      { image: 'b c.jpg', caption: 'A cat says " meow " .', line: 5 },
      { image: 'b c.jpg', caption: '"starts with a quote" but goes on', line: 6 },
    ]);
  });

  it('skips malformed lines and empty captions, naming file and line, with a count', () => {
    const text = 'image,caption\na.jpg,ok .\nno comma here\n,no image\nb.jpg,   \nb.jpg,""\nc.jpg,fine\n';
    const r = parseCaptionsCsv(text, 'captions.txt');
    expect(r.rows.map((x) => x.image)).toEqual(['a.jpg', 'c.jpg']);
    expect(r.problems).toContain('captions.txt:3: expected \'image,caption\', got "no comma here"');
    expect(r.problems).toContain('captions.txt:4: no image name in ",no image"');
    expect(r.problems).toContain('captions.txt:5: empty caption for b.jpg');
    expect(r.problems).toContain('captions.txt:6: empty caption for b.jpg');
    expect(r.problems).toContain('captions.txt: 2 malformed lines skipped');
    expect(r.problems).toContain('captions.txt: 2 empty captions skipped');
  });

  it('lists the first ten problems of a kind, then counts the rest', () => {
    const bad = Array.from({ length: 25 }, (_, i) => `broken line ${i}`);
    const r = parseCaptionsCsv(['image,caption', 'a.jpg,x', ...bad].join('\n'), 'c.csv');
    expect(r.problems.filter((p) => /^c\.csv:\d+:/.test(p))).toHaveLength(10);
    expect(r.problems).toContain('c.csv: ... and 15 malformed lines more');
    expect(r.problems).toContain('c.csv: 25 malformed lines skipped');
  });

  it('reports a missing header and reads the first line as data', () => {
    const r = parseCaptionsCsv('a.jpg,one\na.jpg,two', 'x.txt');
    expect(r.rows).toHaveLength(2);
    expect(r.problems[0]).toMatch(/^x\.txt:1: expected the header 'image,caption'/);
  });

  it('throws when no line is usable, quoting the problems', () => {
    expect(() => parseCaptionsCsv('image,caption\ngarbage\n', 'captions.txt')).toThrow(
      /captions\.txt: no usable caption found .*captions\.txt:2: expected 'image,caption'/,
    );
    expect(() => parseCaptionsCsv('', 'empty.txt')).toThrow(/empty\.txt: no usable caption found/);
  });
});

describe('parseFlickrToken', () => {
  it('reads name.jpg#k<TAB>caption and reports malformed lines by number', () => {
    const text = 'a.jpg#0\tA dog .\na.jpg#1\tA dog , running .\nbroken line\nb.jpg#0\t \nb.jpg\tno number\n';
    const r = parseFlickrToken(text, 'Flickr8k.token.txt');
    expect(r.rows).toEqual([
      { image: 'a.jpg', caption: 'A dog .', line: 1 },
      { image: 'a.jpg', caption: 'A dog , running .', line: 2 },
      { image: 'b.jpg', caption: 'no number', line: 5 },
    ]);
    expect(r.problems).toContain(
      'Flickr8k.token.txt:3: expected \'name.jpg#k<TAB>caption\', got "broken line"',
    );
    expect(r.problems).toContain('Flickr8k.token.txt:4: empty caption for b.jpg');
    expect(() => parseFlickrToken('nothing useful', 't.txt')).toThrow(/t\.txt: no usable caption/);
  });
});

describe('parseKarpathyJson', () => {
  it('reads raw sentences (or tokens) and splits, val -> dev', () => {
    const json = JSON.stringify({
      dataset: 'flickr8k',
      images: [
        { filename: 'a.jpg', split: 'train', sentences: [{ raw: 'A dog .', tokens: ['a', 'dog'] }] },
        { filename: 'b.jpg', split: 'val', sentences: [{ tokens: ['a', 'cat'] }, { raw: '  ' }] },
        { filename: 'c.jpg', split: 'test', sentences: [{ raw: 'A bird .' }] },
        { split: 'train', sentences: [{ raw: 'no file' }] },
        { filename: 'd.jpg', split: 'weird', sentences: [{ raw: 'x' }] },
      ],
    });
    const r = parseKarpathyJson(json, 'dataset_flickr8k.json');
    expect(r.rows.map((x) => [x.image, x.caption])).toEqual([
      ['a.jpg', 'A dog .'],
      ['b.jpg', 'a cat'],
      ['c.jpg', 'A bird .'],
      ['d.jpg', 'x'],
    ]);
    expect(r.splits).toEqual({ train: ['a.jpg'], dev: ['b.jpg'], test: ['c.jpg'] });
    expect(r.problems).toContain('dataset_flickr8k.json images[1].sentences[1]: empty caption for b.jpg');
    expect(r.problems).toContain("dataset_flickr8k.json images[3]: no 'filename'");
    expect(r.problems.some((p) => p.includes("unknown split 'weird'"))).toBe(true);
    expect(() => parseKarpathyJson('{not json', 'k.json')).toThrow(/k\.json: not valid JSON/);
    expect(() => parseKarpathyJson('{"images": 3}', 'k.json')).toThrow(/'images' array/);
  });
});

describe('buildFlickrDataset', () => {
  const captions = {
    name: 'captions.txt',
    text: 'image,caption\na.jpg,one\na.jpg,two\nb.jpg,three\nc.jpg,four\nghost.jpg,five\n',
  };

  it('numbers images, resolves splits, reports unknown names and missing images; a missing split is absent', () => {
    const r = buildFlickrDataset({
      captionsFile: captions,
      splitFiles: {
        train: { name: 'train.txt', text: 'a.jpg\nb.jpg\nnot-there.jpg\n\n' },
        dev: { name: 'dev.txt', text: 'c.jpg\r\n' },
      },
      imageNames: ['a.jpg', 'b.jpg', 'c.jpg', 'extra.jpg'],
    });
    expect(r.images).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
    expect(r.captions).toEqual([
      { image: 0, text: 'one' },
      { image: 0, text: 'two' },
      { image: 1, text: 'three' },
      { image: 2, text: 'four' },
    ]);
    expect(r.splits).toEqual({ train: [0, 1], dev: [2] });
    expect('test' in r.splits).toBe(false);
    expect(r.problems).toEqual([
      'captions.txt: 1 caption(s) of 1 image(s) not found in the image folder, skipped: ghost.jpg',
      '1 image(s) in the folder have no caption, ignored: extra.jpg',
      'train.txt: 1 name(s) not among the captioned images, skipped: not-there.jpg',
    ]);
  });

  it('takes splits from Karpathy JSON unless a split list overrides them; reports overlaps', () => {
    const json = JSON.stringify({
      images: [
        { filename: 'a.jpg', split: 'train', sentences: [{ raw: 'x' }] },
        { filename: 'b.jpg', split: 'val', sentences: [{ raw: 'y' }] },
      ],
    });
    const r = buildFlickrDataset({ captionsFile: { name: 'dataset_flickr8k.json', text: json } });
    expect(r.splits).toEqual({ train: [0], dev: [1] });
    const o = buildFlickrDataset({
      captionsFile: { name: 'dataset_flickr8k.json', text: json },
      splitFiles: { dev: { name: 'dev.txt', text: 'a.jpg\nb.jpg' } },
    });
    expect(o.splits).toEqual({ train: [0], dev: [0, 1] });
    expect(o.problems).toEqual(["1 image(s) are in both 'train' and 'dev': a.jpg"]);
  });

  it('detects the caption format and throws when no captioned image is in the folder', () => {
    expect(detectCaptionFormat({ name: 'Flickr8k.token.txt', text: 'a.jpg#0\tx' })).toBe('token');
    expect(detectCaptionFormat({ name: 'captions.txt', text: 'image,caption\n' })).toBe('csv');
    expect(detectCaptionFormat({ name: 'd.json', text: '{}' })).toBe('karpathy');
    expect(() => buildFlickrDataset({ captionsFile: captions, imageNames: ['z.jpg'] })).toThrow(
      /none of the captioned images is in the image folder/,
    );
  });

  it('locates the files of a picked folder (browser relative paths)', () => {
    const layout = locateFlickrFiles([
      'flickr/Flickr8k_text/Flickr8k.token.txt',
      'flickr/Flickr8k_text/Flickr_8k.devImages.txt',
      'flickr/captions.txt',
      'flickr/Images/b.jpg',
      'flickr/Images/a.JPG',
      'flickr/other/x.jpg',
      'flickr/other/y.jpg',
      'flickr/other/z.jpg',
    ]);
    expect(layout).toEqual({
      captions: 'flickr/captions.txt',
      splits: { dev: 'flickr/Flickr8k_text/Flickr_8k.devImages.txt' },
      imageDir: 'flickr/Images',
      imageNames: ['a.JPG', 'b.jpg'],
    });
    expect(locateFlickrFiles(['d\\Flickr8k.token.txt', 'd\\p\\q.jpg']).imageDir).toBe('d/p');
    expect(() => locateFlickrFiles(['a.jpg'])).toThrow(/no caption file found/);
    expect(() => locateFlickrFiles(['captions.txt'])).toThrow(/no photos in the folder/);
  });

  it('parseSplitList trims names and drops blank lines', () => {
    expect(parseSplitList(' a.jpg \r\n\r\nb.jpg')).toEqual(['a.jpg', 'b.jpg']);
  });
});

describe('Flickr8k folders', () => {
  it('reads the shared Flickr8k: 35,455 captions of 7,091 photos, 6000/1000 splits, test withheld', () => {
    const dir = path.join(requireSharedDir(), 'data', 'flickr8k');
    const f = readFlickrFolder(dir);
    expect(path.basename(f.captionsPath)).toBe('captions.txt');
    expect(f.imageDir).toBe(path.join(dir, 'Images'));
    expect(f.data.captions).toHaveLength(35455);
    expect(f.data.images).toHaveLength(7091);
    expect(f.data.splits.train).toHaveLength(6000);
    expect(f.data.splits.dev).toHaveLength(1000);
    expect(f.data.splits.test).toBeUndefined();
    expect(f.data.problems).toEqual([]);
    // A caption with commas survives whole.
    expect(f.data.captions.filter((c) => c.text.includes(',')).length).toBeGreaterThan(1000);
    // limitImages keeps the split proportions.
    const small = limitImages(f.data, 35);
    expect(small.splits.train).toHaveLength(30);
    expect(small.splits.dev).toHaveLength(5);
    expect(small.captions).toHaveLength(35 * 5);
  });

  it('reads the original layout: Flickr8k_text/Flickr8k.token.txt, Flicker8k_Dataset/, no split lists', () => {
    const dir = path.join(tmp, 'orig');
    mkdirSync(path.join(dir, 'Flickr8k_text'), { recursive: true });
    mkdirSync(path.join(dir, 'Flicker8k_Dataset'));
    for (const n of ['a.jpg', 'b.jpg']) writeFileSync(path.join(dir, 'Flicker8k_Dataset', n), 'x');
    writeFileSync(
      path.join(dir, 'Flickr8k_text', 'Flickr8k.token.txt'),
      'a.jpg#0\tA dog .\nb.jpg#0\tA cat .\n',
    );
    const f = readFlickrFolder(dir);
    expect(f.data.images).toEqual(['a.jpg', 'b.jpg']);
    // No split lists: a seeded split by name (two photos are too few for a dev or test photo), said so.
    expect(f.data.splits).toEqual({ train: [0, 1] });
    expect(f.data.notes?.[0]).toMatch(
      /No split lists .* split by file name with seed 1 into train 2 \/ dev 0 \/ test 0/,
    );
    expect(f.splitPaths).toEqual({});
    expect(readFileSync(f.captionsPath, 'utf8')).toContain('#0');
  });

  it('names what is missing in a folder', () => {
    expect(() => readFlickrFolder(path.join(tmp, 'nope'))).toThrow(/no such folder/);
    mkdirSync(path.join(tmp, 'empty'));
    expect(() => readFlickrFolder(path.join(tmp, 'empty'))).toThrow(/no caption file found/);
    writeFileSync(path.join(tmp, 'empty', 'captions.txt'), 'image,caption\na.jpg,x\n');
    expect(() => readFlickrFolder(path.join(tmp, 'empty'))).toThrow(/no photos in the folder/);
  });
});

describe('seeded split of a folder without split lists', () => {
  const names = Array.from({ length: 8000 }, (_, i) => `${1000 + i * 7}_photo.jpg`);

  it('cuts the standard 6000 / 1000 / 1000 proportions, disjoint and covering every photo', () => {
    const s = seededSplit(names);
    expect([s.train?.length, s.dev?.length, s.test?.length]).toEqual([6000, 1000, 1000]);
    const all = [...s.train!, ...s.dev!, ...s.test!];
    expect(new Set(all).size).toBe(8000);
    // The common public copy (8091 photos): an eighth each for dev and test, the rest trains.
    const k = seededSplit(names.concat(names.slice(0, 91).map((n) => `x${n}`)));
    expect([k.train?.length, k.dev?.length, k.test?.length]).toEqual([6069, 1011, 1011]);
  });

  it('depends on the names and the seed, not on the order of the files', () => {
    const a = seededSplit(names);
    const reversed = [...names].reverse();
    const b = seededSplit(reversed);
    const devA = new Set(a.dev!.map((i) => names[i]));
    expect(new Set(b.dev!.map((i) => reversed[i]))).toEqual(devA);
    const other = seededSplit(names, 2);
    const overlap = other.dev!.filter((i) => devA.has(names[i])).length;
    expect(overlap).toBeLessThan(300); // about 1000/8 by chance, far from all 1000
    // Not a cut of the sorted names: the dev photos are spread over the whole range.
    const devIdx = a.dev!;
    expect(devIdx[0]).toBeLessThan(100);
    expect(devIdx[devIdx.length - 1]).toBeGreaterThan(7900);
  });

  it('keeps at least one training photo and leaves empty splits out', () => {
    expect(seededSplit(['a.jpg'])).toEqual({ train: [0] });
    expect(seededSplit([])).toEqual({});
    const four = seededSplit(['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg']);
    expect([four.train?.length, four.dev?.length, four.test?.length]).toEqual([2, 1, 1]);
  });

  it('buildFlickrDataset splits a folder without lists and says so; given lists are used as they are', () => {
    const text = ['image,caption', ...names.slice(0, 80).map((n) => `${n},a photo`)].join('\n');
    const r = buildFlickrDataset({ captionsFile: { name: 'captions.txt', text } });
    expect([r.splits.train?.length, r.splits.dev?.length, r.splits.test?.length]).toEqual([60, 10, 10]);
    expect(r.notes).toHaveLength(1);
    expect(r.notes![0]).toMatch(
      /No split lists .*split by file name with seed 1 into train 60 \/ dev 10 \/ test 10/,
    );
    const listed = buildFlickrDataset({
      captionsFile: { name: 'captions.txt', text },
      splitFiles: { train: { name: 'train.txt', text: names.slice(0, 70).join('\n') } },
    });
    expect(listed.splits).toEqual({ train: [...Array(70).keys()] });
    expect(listed.notes).toBeUndefined();
  });

  it('warns about a dev split too small for recall and a batch larger than the training split', () => {
    expect(splitSizeWarnings({ train: [0, 1, 2], dev: [3, 4] }, 128)).toEqual([
      expect.stringMatching(/dev split has only 2 images: recall@K moves in steps of 50\.0 points/),
      expect.stringMatching(/batch \(128\) is larger than the training split \(3 images\)/),
    ]);
    expect(splitSizeWarnings({ train: [...Array(500).keys()], dev: [...Array(100).keys()] }, 128)).toEqual(
      [],
    );
    expect(splitSizeWarnings({ train: [0] })).toEqual([expect.stringMatching(/no dev split/)]);
    expect(batchWarning(6000, 128)).toBeNull();
  });
});
