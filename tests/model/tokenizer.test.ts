import { describe, expect, it } from 'vitest';
import { PAD_ID, UNK_ID, Vocabulary, tokenize } from '../../src/model/tokenizer';

describe('tokenize', () => {
  it('lowercases and drops punctuation of pre-tokenised Flickr8k captions', () => {
    expect(tokenize('A dog runs .')).toEqual(['a', 'dog', 'runs']);
    expect(tokenize('A black dog , a white dog , and a cat play .')).toEqual([
      'a',
      'black',
      'dog',
      'a',
      'white',
      'dog',
      'and',
      'a',
      'cat',
      'play',
    ]);
  });

  it('splits on any non-letter/digit character and drops empty pieces', () => {
    expect(tokenize('  two-year-old\tboy\n(3 kids)!! ')).toEqual(['two', 'year', 'old', 'boy', '3', 'kids']);
    expect(tokenize('')).toEqual([]);
    expect(tokenize(' . , ! ')).toEqual([]);
  });

  it('deletes apostrophes instead of splitting on them', () => {
    expect(tokenize("The dog's ball")).toEqual(['the', 'dogs', 'ball']);
    expect(tokenize("a man 's hat , don't")).toEqual(['a', 'man', 's', 'hat', 'dont']);
    expect(tokenize('it\u2019s')).toEqual(['its']);
  });

  it('keeps non-ASCII letters and digits', () => {
    expect(tokenize('Café NAÏVE 42nd')).toEqual(['café', 'naïve', '42nd']);
  });
});

describe('Vocabulary', () => {
  const train = ['A dog runs .', 'a dog jumps', 'The cat sleeps .', 'a cat runs'];

  it('reserves 0 = <pad> and 1 = <unk> and orders words by count then alphabetically', () => {
    const v = Vocabulary.build(train);
    // counts: a 3, cat 2, dog 2, runs 2, jumps 1, sleeps 1, the 1
    expect(v.toJSON().tokens).toEqual([
      '<pad>',
      '<unk>',
      'a',
      'cat',
      'dog',
      'runs',
      'jumps',
      'sleeps',
      'the',
    ]);
    expect(v.size).toBe(9);
    expect(v.tokenOf(PAD_ID)).toBe('<pad>');
    expect(v.tokenOf(UNK_ID)).toBe('<unk>');
    expect(v.idOf('dog')).toBe(4);
    expect(v.idOf('zebra')).toBe(UNK_ID);
    expect(v.has('cat')).toBe(true);
    expect(v.has('zebra')).toBe(false);
  });

  it('is deterministic regardless of caption order', () => {
    expect(Vocabulary.build([...train].reverse()).toJSON()).toEqual(Vocabulary.build(train).toJSON());
  });

  it('applies minCount and maxSize', () => {
    expect(Vocabulary.build(train, { minCount: 2 }).toJSON().tokens).toEqual([
      '<pad>',
      '<unk>',
      'a',
      'cat',
      'dog',
      'runs',
    ]);
    expect(Vocabulary.build(train, { maxSize: 4 }).toJSON().tokens).toEqual(['<pad>', '<unk>', 'a', 'cat']);
    expect(() => Vocabulary.build(train, { minCount: 0 })).toThrow(
      /minCount must be a positive integer, got 0/,
    );
    expect(() => Vocabulary.build(train, { maxSize: 1 })).toThrow(/maxSize must be at least 2/);
    expect(() => Vocabulary.build([])).toThrow(/zero captions/);
  });

  it('encodes unknown words as <unk> and decodes back', () => {
    const v = Vocabulary.build(train);
    const ids = v.encode('A zebra runs !');
    expect(ids).toEqual([2, UNK_ID, 5]);
    expect(v.decode(ids)).toBe('a <unk> runs');
    expect(v.decode([2, 4, PAD_ID, PAD_ID])).toBe('a dog');
    expect(() => v.decode([99])).toThrow(/word id 99 is outside the vocabulary \[0, 9\)/);
    // only unknown words: accepted at encode time
    expect(v.encode('zebras gallop')).toEqual([UNK_ID, UNK_ID]);
  });

  it('rejects empty or token-less captions, naming index and text', () => {
    const v = Vocabulary.build(train);
    expect(() => v.encodeBatch(['a dog', 'a cat', '   '])).toThrow(/caption 2 is empty/);
    expect(() => v.encodeBatch(['a dog', ' . ! '])).toThrow(/caption 1 has no word tokens \(" \. ! "\)/);
    expect(() => v.encode('', 12)).toThrow('caption 12 is empty');
    expect(() => Vocabulary.build(['a dog', '', 'a cat'])).toThrow(/caption 1 is empty/);
    expect(() => v.encodeBatch(['a', 7 as unknown as string])).toThrow(
      /caption 1 must be a string, got number/,
    );
  });

  it('encodeBatch returns a time-major [T, B] zero-padded batch', () => {
    const v = Vocabulary.build(train);
    const batch = v.encodeBatch(['a dog runs', 'cat', 'the cat sleeps zebra']);
    expect(batch.T).toBe(4);
    expect(batch.B).toBe(3);
    expect(Array.from(batch.lengths)).toEqual([3, 1, 4]);
    expect(batch.ids).toBeInstanceOf(Int32Array);
    // rows are time steps, columns are captions
    // prettier-ignore
    expect(Array.from(batch.ids)).toEqual([
      2, 3, 8, // t = 0
      4, 0, 3, // t = 1
      5, 0, 7, // t = 2
      0, 0, 1, // t = 3
    ]);
    for (let b = 0; b < batch.B; b++) {
      const seq = Array.from({ length: batch.T }, (_, t) => batch.ids[t * batch.B + b]!);
      expect(seq.slice(batch.lengths[b]!).every((id) => id === PAD_ID)).toBe(true);
      expect(seq.slice(0, batch.lengths[b]!).every((id) => id !== PAD_ID)).toBe(true);
    }
  });

  it('encodeBatch truncates to maxLen and validates it', () => {
    const v = Vocabulary.build(train);
    const batch = v.encodeBatch(['a dog runs', 'cat'], 2);
    expect(batch.T).toBe(2);
    expect(Array.from(batch.lengths)).toEqual([2, 1]);
    expect(Array.from(batch.ids)).toEqual([2, 3, 4, 0]);
    expect(v.encodeBatch(['a', 'cat'], 10).T).toBe(1);
    expect(() => v.encodeBatch(['a'], 0)).toThrow(/maxLen must be a positive integer, got 0/);
    expect(() => v.encodeBatch([])).toThrow(/at least one caption/);
  });

  it('checkKnown lists captions without any known word', () => {
    const v = Vocabulary.build(train);
    expect(v.checkKnown(['a dog', 'zebras gallop', 'the zebra', ' . ', 'giraffe'])).toEqual([
      { index: 1, text: 'zebras gallop' },
      { index: 3, text: ' . ' },
      { index: 4, text: 'giraffe' },
    ]);
    expect(v.checkKnown(train)).toEqual([]);
  });

  it('round-trips through toJSON / fromJSON (object and string)', () => {
    const v = Vocabulary.build(train);
    const json = v.toJSON();
    expect(json.format).toBe('orderembed-vocab');
    const back = Vocabulary.fromJSON(JSON.parse(JSON.stringify(json)));
    expect(back.toJSON()).toEqual(json);
    expect(back.encode('the cat')).toEqual(v.encode('the cat'));
    expect(Vocabulary.fromJSON(JSON.stringify(v)).size).toBe(v.size);
    // mutating the export does not affect the vocabulary
    json.tokens.push('extra');
    expect(v.size).toBe(9);
  });

  it('fromJSON rejects malformed input with clear messages', () => {
    expect(() => Vocabulary.fromJSON({})).toThrow(/'tokens' array/);
    expect(() => Vocabulary.fromJSON({ tokens: ['a', 'b'] })).toThrow(/must start with '<pad>', '<unk>'/);
    expect(() => Vocabulary.fromJSON({ tokens: ['<pad>', '<unk>', 'a', 'a'] })).toThrow(
      /"a" appears twice \(ids 2 and 3\)/,
    );
    expect(() => Vocabulary.fromJSON({ tokens: ['<pad>', '<unk>', ''] })).toThrow(
      /token 2 must be a non-empty string/,
    );
    expect(() => Vocabulary.fromJSON({ format: 'x', tokens: ['<pad>', '<unk>'] })).toThrow(
      /expected 'orderembed-vocab'/,
    );
    expect(() => Vocabulary.fromJSON({ version: 2, tokens: ['<pad>', '<unk>'] })).toThrow(
      /version 2, expected 1/,
    );
  });
});
