/**
 * The starter's caption bank (scripts/make-caption-bank.ts, public/starter/caption-bank.txt): the shipped
 * file is what the script composes, every word is in the starter's vocabulary, general sentences sit
 * next to their specialisations, no sentence twice, no action said of a subject it does not fit.
 *
 * Without ../shared (CI, a user's machine) the Flickr8k checks are replaced by what the file itself
 * allows: the shipped bank must be the composed one minus exactly the header's count of dropped sentences.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  captionKey,
  composeCaptionBank,
  DEFAULT_BANK_PATH,
  dropFlickrCaptions,
  flickrVocabulary,
  parseCaptionBank,
  unknownWords,
  vocabularyFromRun,
} from '../../scripts/make-caption-bank';
import { parseCaptionFile } from '../../src/model/data/flickr8k';
import { Vocabulary } from '../../src/model/tokenizer';
import { repoRoot, sharedDir } from '../helpers/shared';

const shipped = parseCaptionBank(readFileSync(DEFAULT_BANK_PATH, 'utf8'), DEFAULT_BANK_PATH);
const composed = composeCaptionBank(shipped.seed);
const flickrDir = path.join(sharedDir(), 'data', 'flickr8k');
const flickrCaptionsFile = path.join(flickrDir, 'captions.txt');
const haveFlickr = existsSync(flickrCaptionsFile);
const starterDir = path.join(repoRoot, 'public', 'starter');
const haveStarter = existsSync(path.join(starterDir, 'config.json'));

function flickrCaptions(): string[] {
  const file = { name: 'captions.txt', text: readFileSync(flickrCaptionsFile, 'utf8') };
  return parseCaptionFile(file).rows.map((r) => r.caption);
}

describe('caption bank composition', () => {
  it('is deterministic for a seed, and another seed gives another bank', () => {
    expect(composeCaptionBank(shipped.seed)).toEqual(composed);
    expect(composeCaptionBank(shipped.seed + 1).map((s) => s.text)).not.toEqual(composed.map((s) => s.text));
  });

  it('composes several thousand distinct sentences at every level of detail from 1 to 5', () => {
    const texts = composed.map((s) => s.text);
    expect(new Set(texts).size).toBe(texts.length);
    expect(texts.length).toBeGreaterThanOrEqual(4000);
    expect(texts.length).toBeLessThanOrEqual(8000);
    const levels = new Set(composed.map((s) => s.level));
    expect([...levels].sort()).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('shipped caption bank', () => {
  it('is the composed bank with the Flickr8k-identical sentences dropped', () => {
    const texts = composed.map((s) => s.text);
    if (haveFlickr) {
      const { kept, dropped } = dropFlickrCaptions(texts, flickrCaptions());
      expect(shipped.sentences).toEqual(kept);
      expect(shipped.dropped).toBe(dropped.length);
    } else {
      // No Flickr8k here: the shipped sentences must be the composed ones, in order, less `dropped` of them.
      const inBank = new Set(shipped.sentences);
      expect(texts.filter((t) => inBank.has(t))).toEqual(shipped.sentences);
      expect(texts.length - shipped.sentences.length).toBe(shipped.dropped);
    }
  });

  it.skipIf(!haveFlickr)('has no sentence identical to a Flickr8k caption (needs ../shared)', () => {
    const keys = new Set(flickrCaptions().map(captionKey));
    expect(shipped.sentences.filter((s) => keys.has(captionKey(s)))).toEqual([]);
  });

  it('holds no sentence twice, each in the dataset style: lower-case words and a final " ."', () => {
    expect(new Set(shipped.sentences).size).toBe(shipped.sentences.length);
    const badStyle = shipped.sentences.filter((s) => !/^[a-z]+( [a-z]+)* \.$/.test(s));
    expect(badStyle).toEqual([]);
  });

  it('sets detailed sentences next to more general ones: their prefixes, the sentence less some words', () => {
    const bank = new Set(shipped.sentences);
    const wordsOf = (s: string) => s.slice(0, -2).split(' ');
    /** The shorter sentences of the bank that `s` continues ("a dog ." for "a dog runs ."). */
    const prefixes = (s: string) =>
      wordsOf(s)
        .map((_, n, words) => `${words.slice(0, n).join(' ')} .`)
        .filter((p) => bank.has(p));
    /** Whether the bank holds `s` less a run of its words ("a dog runs ." for "a black dog runs ."). */
    const hasGeneral = (s: string) => {
      const words = wordsOf(s);
      for (let i = 0; i < words.length; i++)
        for (let j = i + 1; j <= words.length; j++) {
          const rest = [...words.slice(0, i), ...words.slice(j)];
          if (rest.length && bank.has(`${rest.join(' ')} .`)) return true;
        }
      return false;
    };
    // A few generalisations are missing only where they were dropped as Flickr8k captions ("two dogs .").
    const withAction = shipped.sentences.filter((s) => wordsOf(s).length >= 4); // "a dog runs" and longer
    expect(withAction.length).toBeGreaterThan(shipped.sentences.length / 2);
    expect(withAction.filter((s) => prefixes(s).length > 0).length / withAction.length).toBeGreaterThan(0.95);
    const multiWord = shipped.sentences.filter((s) => wordsOf(s).length >= 3); // "a black dog" and longer
    expect(multiWord.filter(hasGeneral).length / multiWord.length).toBeGreaterThan(0.95);
    // Whole chains: "a young man ." < "a young man in a red shirt ." < "... rides a bike ." < "... down the street ."
    expect(shipped.sentences.filter((s) => prefixes(s).length >= 3).length).toBeGreaterThan(100);
  });

  it('says of animals only what animals do', () => {
    const animal =
      /^(a|an|two|three) (\w+ )?(dog|dogs|puppy|cat|cats|kitten|horse|horses|pony|bird|birds|seagull)\b/;
    const human = /\b(rides?|riding|skis?|skiing|surfs?|reads?|guitar|soccer|bike|skateboard|picture)\b/;
    const animals = shipped.sentences.filter((s) => animal.test(s));
    expect(animals.length).toBeGreaterThan(500);
    expect(animals.filter((s) => human.test(s))).toEqual([]);
  });

  it.skipIf(!haveStarter && !haveFlickr)(
    `has every word in the starter's vocabulary (${haveStarter ? 'public/starter/config.json' : 'rebuilt from ../shared'})`,
    async () => {
      const vocab = haveStarter ? vocabularyFromRun(starterDir) : (await flickrVocabulary(flickrDir)).vocab;
      expect(unknownWords(shipped.sentences, vocab)).toEqual([]);
    },
  );
});

describe('caption bank checks', () => {
  it('names the sentence and the word the vocabulary lacks', () => {
    const vocab = new Vocabulary(['<pad>', '<unk>', 'a', 'dog', 'runs']);
    expect(unknownWords(['a dog runs .', 'a dog runs through the snow .'], vocab)).toEqual([
      { sentence: 'a dog runs through the snow .', word: 'through' },
      { sentence: 'a dog runs through the snow .', word: 'the' },
      { sentence: 'a dog runs through the snow .', word: 'snow' },
    ]);
  });

  it('drops a sentence equal to a caption up to case and punctuation', () => {
    const r = dropFlickrCaptions(['a dog runs .', 'a cat sits .'], ['A dog runs', 'A cat sits on a mat .']);
    expect(r).toEqual({ kept: ['a cat sits .'], dropped: ['a dog runs .'] });
  });

  it('rejects a bank file without its header or with a wrong count, naming the file', () => {
    expect(() => parseCaptionBank('a dog .\n', 'bank.txt')).toThrow(/bank\.txt, line 1: expected the header/);
    const text = '# orderembed-caption-bank v1 seed=1 sentences=3 dropped=0\na dog .\n';
    expect(() => parseCaptionBank(text, 'bank.txt')).toThrow(
      /bank\.txt: the header announces 3 sentences, the file holds 1/,
    );
  });

  it('names the file of a run folder without a vocabulary', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'orderembed-bank-'));
    try {
      expect(() => vocabularyFromRun(dir)).toThrow(/config\.json: no such file/);
      writeFileSync(path.join(dir, 'config.json'), '{"vocab": {"tokens": ["a"]}}');
      expect(() => vocabularyFromRun(dir)).toThrow(
        /config\.json, field 'vocab': vocabulary tokens must start/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!haveFlickr)(
    'the script refuses to write a bank with an unknown word, naming sentence and word (needs ../shared)',
    async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'orderembed-bank-'));
      try {
        const run = path.join(dir, 'run');
        mkdirSync(run);
        // A vocabulary without "snow": the composed bank has sentences with it.
        const tokens = (await flickrVocabulary(flickrDir)).vocab.toJSON().tokens.filter((t) => t !== 'snow');
        writeFileSync(path.join(run, 'config.json'), JSON.stringify({ vocab: { tokens } }));
        const out = path.join(dir, 'bank.txt');
        const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
          execFile(
            process.execPath,
            [
              path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
              path.join(repoRoot, 'scripts', 'make-caption-bank.ts'),
              ...['--vocab-from', run, '--data', flickrDir, '--out', out],
            ],
            { cwd: repoRoot, encoding: 'utf8' },
            (err, _stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }),
          ),
        );
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/word\(s\) not in the vocabulary of .*config\.json/);
        expect(r.stderr).toMatch(/"[a-z ]*snow[a-z ]* \.": 'snow'/);
        expect(existsSync(out)).toBe(false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
