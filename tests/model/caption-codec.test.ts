import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CaptionCodec,
  CODEC_FILE,
  hasKnownWord,
  MAX_QUERY_CHARS,
  type CaptionCodecJSON,
} from '../../src/model/caption-codec';
import { exportRun, importModel, RUN_FILES, type RunFiles } from '../../src/model/export';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { PAD_ID, UNK_ID, Vocabulary } from '../../src/model/tokenizer';
import { Trainer } from '../../src/model/trainer';
import { validateRunFiles } from '../../src/model/validate-run';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

const vocab = Vocabulary.build(['a dog runs on the grass', 'a black dog jumps', 'the cat sleeps']);
const codec = new CaptionCodec(vocab, 4);

describe('CaptionCodec', () => {
  it('encodes a caption as the vocabulary does, unknown words as UNK_ID, cut to maxLength', () => {
    const ids = codec.encodeCaption('A dog, a zorblax and the cat sleep', 3);
    expect(ids).toBeInstanceOf(Int32Array);
    // The first maxLength = 4 words: a dog a zorblax.
    expect(Array.from(ids)).toEqual(['a', 'dog', 'a', 'zorblax'].map((w) => vocab.idOf(w)));
    expect(ids[3]).toBe(UNK_ID);
    // Exactly the ids the hand-written encode + cut gave (training, evaluation, retrieval used it).
    const long = new CaptionCodec(vocab, 50);
    for (const text of ['the cat sleeps on a black dog', 'zorblax', 'a '.repeat(80)])
      expect(Array.from(long.encodeCaption(text))).toEqual(vocab.encode(text).slice(0, 50));
    expect(long.encodeCaption('a '.repeat(80))).toHaveLength(50);
    expect(() => codec.encodeCaption('  ', 7)).toThrow('caption 7 is empty');
    expect(() => codec.encodeCaption('...', 8)).toThrow('caption 8 has no word tokens');
  });

  it('encodes words already split, and lists the unknown words of a text once each', () => {
    expect(Array.from(codec.encodeWords(['cat', 'quux', 'dog', 'runs', 'grass']))).toEqual([
      vocab.idOf('cat'),
      UNK_ID,
      vocab.idOf('dog'),
      vocab.idOf('runs'),
    ]);
    expect(codec.unknownWords("A zorblax, the QUUX's zorblax on a dog")).toEqual(['zorblax', 'quuxs']);
    expect(codec.unknownWords('a black dog')).toEqual([]);
    expect(hasKnownWord([PAD_ID, UNK_ID])).toBe(false);
    expect(hasKnownWord([UNK_ID, vocab.idOf('dog')])).toBe(true);
  });

  it('validates a query in one place: empty, too long, no words, no known word (named)', () => {
    const q = codec.encodeQuery('  The zorblax dog runs on grass ', 'the search sentence');
    expect(Array.from(q.ids)).toEqual(['the', 'zorblax', 'dog', 'runs'].map((w) => vocab.idOf(w)));
    expect(q.unknown).toEqual(['zorblax']);
    expect(() => codec.encodeQuery('   ', 'sentence A')).toThrow('sentence A is empty');
    const long = 'dog '.repeat(MAX_QUERY_CHARS / 4) + 'x';
    expect(() => codec.encodeQuery(long, 'sentence B')).toThrow(
      `sentence B is ${long.length} characters long; at most ${MAX_QUERY_CHARS} are accepted`,
    );
    expect(() => codec.encodeQuery('?!', 'the search sentence')).toThrow(
      'the search sentence ("?!") has no words',
    );
    expect(() => codec.encodeQuery('zorblax quux zorblax')).toThrow(
      /the sentence \("zorblax quux zorblax"\) has no word the model knows \(unknown: zorblax, quux\); its vocabulary is the \d+ words/,
    );
  });

  it('round-trips through JSON: same vocabulary, same cut, same ids', () => {
    const text = JSON.stringify(codec.toJSON());
    const back = CaptionCodec.fromJSON(JSON.parse(text));
    expect(back.maxLength).toBe(4);
    expect(back.vocab.toJSON()).toEqual(vocab.toJSON());
    for (const t of ['a black dog jumps on the cat', 'zorblax runs'])
      expect(back.encodeCaption(t)).toEqual(codec.encodeCaption(t));
    expect(back.toJSON()).toEqual(codec.toJSON());
  });

  it('refuses a malformed codec, naming the file and the field', () => {
    const good = codec.toJSON();
    const broken = (edit: Partial<Record<keyof CaptionCodecJSON, unknown>>) =>
      CaptionCodec.fromJSON({ ...good, ...edit }, 'run/codec.json');
    expect(() => CaptionCodec.fromJSON([], 'run/codec.json')).toThrow(
      'run/codec.json: expected an object, got []',
    );
    expect(() => broken({ format: 'orderembed-vocab' })).toThrow(
      `run/codec.json: format: expected 'orderembed-caption-codec', got "orderembed-vocab"`,
    );
    expect(() => broken({ version: 2 })).toThrow('run/codec.json: version: expected 1, got 2');
    expect(() => broken({ tokenizer: 'bpe' })).toThrow(
      `run/codec.json: tokenizer: expected 'words-v1', got "bpe"`,
    );
    expect(() => broken({ maxLength: 0 })).toThrow(
      'run/codec.json: maxLength: expected a whole number from 1 to 200, got 0',
    );
    expect(() => broken({ maxLength: '50' })).toThrow('run/codec.json: maxLength: expected a whole number');
    expect(() => broken({ vocab: { tokens: ['<unk>', '<pad>'] } })).toThrow(
      /^run\/codec\.json: vocab: vocabulary tokens must start with '<pad>', '<unk>'/,
    );
    expect(() => broken({ vocab: undefined })).toThrow(/^run\/codec\.json: vocab: /);
    expect(() => new CaptionCodec(vocab, 0)).toThrow('maxLength must be a positive whole number, got 0');
  });
});

describe('the codec saved with a run', () => {
  const ds = makeSyntheticDataset({ numImages: 60, imageDim: 12, seed: 5 });
  let tr: Trainer;
  let files: RunFiles;
  beforeAll(() => {
    tr = new Trainer(ds, { wordDim: 8, hiddenDim: 16 }, { batchSize: 8, seed: 2, maxLength: 6 });
    tr.step();
    files = exportRun(tr).files;
  });
  const texts = () => ds.captions.slice(0, 40).map((c) => c.text);
  const ids = (c: CaptionCodec) => texts().map((t, k) => Array.from(c.encodeCaption(t, k)));

  it('is written as codec.json and read back: the same ids as the trainer', () => {
    expect(RUN_FILES.codec).toBe(CODEC_FILE);
    const saved = JSON.parse(files[CODEC_FILE] as string) as CaptionCodecJSON;
    expect(saved).toMatchObject({ format: 'orderembed-caption-codec', tokenizer: 'words-v1', maxLength: 6 });
    const m = importModel(files);
    expect(m.codec.maxLength).toBe(6);
    expect(m.vocab).toBe(m.codec.vocab);
    expect(ids(m.codec)).toEqual(ids(tr.codec));
    // The cut matters here: some synthetic captions are longer than 6 words.
    expect(texts().some((t) => t.split(' ').length > 6)).toBe(true);
    m.model.dispose();
  });

  it('opens a run saved before codecs (no codec.json) with the codec its config.json implies', () => {
    const { [CODEC_FILE]: _dropped, ...old } = files;
    expect(_dropped).toBeDefined();
    expect(validateRunFiles(old).codec).toBeUndefined();
    const m = importModel(old);
    expect(m.codec.maxLength).toBe(tr.config.train.maxLength);
    expect(ids(m.codec)).toEqual(ids(tr.codec));
    m.model.dispose();
  });

  it('opens the shipped starter (public/starter) whether or not it has a codec.json', () => {
    const dir = 'public/starter';
    const read: RunFiles = {};
    for (const name of Object.values(RUN_FILES)) {
      const p = `${dir}/${name}`;
      if (!existsSync(p)) continue;
      read[name] = name.endsWith('.bin') ? new Uint8Array(readFileSync(p)).buffer : readFileSync(p, 'utf8');
    }
    const config = JSON.parse(read['config.json'] as string);
    const m = importModel(read);
    expect(m.codec.maxLength).toBe(config.train.maxLength);
    expect(m.codec.vocab.toJSON().tokens).toEqual(config.vocab.tokens);
    expect(m.codec.encodeQuery('a dog runs on the grass').unknown).toEqual([]);
    m.model.dispose();
  });

  it('refuses an imported codec that is malformed or disagrees with config.json, naming file and field', () => {
    const withCodec = (edit: (c: CaptionCodecJSON) => void): RunFiles => {
      const c = JSON.parse(files[CODEC_FILE] as string) as CaptionCodecJSON;
      edit(c);
      return { ...files, [CODEC_FILE]: JSON.stringify(c) };
    };
    expect(() => importModel({ ...files, [CODEC_FILE]: 'not json' })).toThrow('codec.json: not valid JSON');
    expect(() => importModel(withCodec((c) => (c.maxLength = -1)))).toThrow(
      'codec.json: maxLength: expected a whole number from 1 to 200, got -1',
    );
    expect(() => importModel(withCodec((c) => (c.maxLength = 7)))).toThrow(
      'codec.json: maxLength: expected 6 (config.json: train.maxLength), got 7',
    );
    expect(() =>
      importModel(
        withCodec((c) => ([c.vocab.tokens[2], c.vocab.tokens[3]] = [c.vocab.tokens[3], c.vocab.tokens[2]])),
      ),
    ).toThrow(/^codec\.json: vocab\.tokens\[2\]: expected "[^"]+" \(config\.json: vocab\), got "[^"]+"$/);
    expect(() => importModel(withCodec((c) => c.vocab.tokens.pop()))).toThrow(
      /^codec\.json: vocab\.tokens: expected \d+ words \(config\.json: vocab\), got "\d+ words"$/,
    );
    expect(() => importModel(withCodec((c) => ((c as { tokenizer: string }).tokenizer = 'bpe')))).toThrow(
      `codec.json: tokenizer: expected 'words-v1', got "bpe"`,
    );
  });
});
