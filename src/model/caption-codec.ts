/**
 * The caption codec: how a model reads text. One object owns what turns a caption or a query into the
 * word ids the GRU consumes: the tokenizer (./tokenizer.ts `tokenize`), the vocabulary (unknown words ->
 * the unknown-word id), and the maximum caption length the model was trained with (longer texts keep
 * their first `maxLength` words). Training, evaluation, distillation, calibration and retrieval all
 * encode through it, so the same text gets the same ids everywhere; and it is saved with every run
 * (`codec.json`, see ./export.ts), so whoever opens a run reads text exactly as it was trained.
 *
 * Queries (search sentences, sentences compared for generality) go through {@link CaptionCodec.encodeQuery},
 * the one place that decides what a usable query is and which of its words the model does not know.
 *
 * Plain TypeScript, no DOM or Node APIs.
 */
import { checkIntLimit, describeValue } from './limits';
import { PAD_ID, tokenize, UNK_ID, Vocabulary, type VocabularyJSON } from './tokenizer';

export const CODEC_FORMAT = 'orderembed-caption-codec';
/** The file a run saves its codec in (next to config.json). */
export const CODEC_FILE = 'codec.json';
/**
 * Names the tokenizer rule, so that a later rule cannot silently read an old run's text differently:
 * ./tokenizer.ts `tokenize` (lowercase, apostrophes deleted, split on anything not a letter or digit).
 */
export const TOKENIZER = 'words-v1';
/** Longest query accepted (characters); the page refuses longer ones before sending them. */
export const MAX_QUERY_CHARS = 500;

/** Serialized codec: everything needed to turn text into the ids the run's model was trained on. */
export interface CaptionCodecJSON {
  format: typeof CODEC_FORMAT;
  version: 1;
  tokenizer: typeof TOKENIZER;
  /** Captions are cut to this many words, as in training. */
  maxLength: number;
  vocab: VocabularyJSON;
}

/** A query as the model reads it. */
export interface EncodedQuery {
  /** Word ids [min(words, maxLength)]; unknown words are UNK_ID. */
  ids: Int32Array;
  /** The query's words that are not in the vocabulary, each once, in order (what the page flags). */
  unknown: string[];
}

/** Whether any id is a real word (not padding, not the unknown word): whether the model can place it. */
export function hasKnownWord(ids: ArrayLike<number>): boolean {
  for (let i = 0; i < ids.length; i++) if (ids[i] !== PAD_ID && ids[i] !== UNK_ID) return true;
  return false;
}

export class CaptionCodec {
  /**
   * @param vocab the training captions' vocabulary
   * @param maxLength words a caption is cut to (TrainConfig.maxLength of the run)
   */
  constructor(
    readonly vocab: Vocabulary,
    readonly maxLength: number,
  ) {
    if (!Number.isInteger(maxLength) || maxLength < 1)
      throw new Error(`caption codec: maxLength must be a positive whole number, got ${maxLength}`);
  }

  /**
   * The codec of a run saved before codecs were (no codec.json): the same vocabulary and cut as its
   * config.json, which is how such runs were always read.
   */
  static fromRunConfig(config: { vocab: VocabularyJSON; train: { maxLength: number } }): CaptionCodec {
    return new CaptionCodec(Vocabulary.fromJSON(config.vocab), config.train.maxLength);
  }

  /**
   * Restores a codec saved with {@link toJSON} (parsed JSON). Throws naming `file` and the field that
   * is wrong.
   */
  static fromJSON(obj: unknown, file = CODEC_FILE): CaptionCodec {
    const bad = (field: string, expected: string, got: unknown): never => {
      throw new Error(`${file}: ${field}expected ${expected}, got ${describeValue(got)}`);
    };
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) bad('', 'an object', obj);
    const c = obj as Partial<Record<keyof CaptionCodecJSON, unknown>>;
    if (c.format !== CODEC_FORMAT) bad('format: ', `'${CODEC_FORMAT}'`, c.format);
    if (c.version !== 1) bad('version: ', '1', c.version);
    if (c.tokenizer !== TOKENIZER) bad('tokenizer: ', `'${TOKENIZER}'`, c.tokenizer);
    const maxLength = checkIntLimit(`${file}: maxLength`, c.maxLength, 'maxLength');
    let vocab: Vocabulary;
    try {
      vocab = Vocabulary.fromJSON(c.vocab);
    } catch (e) {
      throw new Error(`${file}: vocab: ${(e as Error).message}`);
    }
    return new CaptionCodec(vocab, maxLength);
  }

  /** Plain-data form for a run's codec.json; round-trips through {@link CaptionCodec.fromJSON}. */
  toJSON(): CaptionCodecJSON {
    return {
      format: CODEC_FORMAT,
      version: 1,
      tokenizer: TOKENIZER,
      maxLength: this.maxLength,
      vocab: this.vocab.toJSON(),
    };
  }

  /** The text of a run's codec.json (the one serialization every writer of a run uses). */
  toFileText(): string {
    return JSON.stringify(this.toJSON()) + '\n';
  }

  /** Rows of the word embedding this codec's ids index (= ModelConfig.vocabSize). */
  get size(): number {
    return this.vocab.size;
  }

  /**
   * Word ids [min(words, maxLength)] of a dataset caption. Throws for an empty caption or one without a
   * word token, naming caption `index`; a caption of unknown words only is encoded (all UNK_ID).
   */
  encodeCaption(text: string, index = 0): Int32Array {
    return Int32Array.from(this.vocab.encode(text, index).slice(0, this.maxLength));
  }

  /** Word ids [min(words.length, maxLength)] of words already split by `tokenize`. */
  encodeWords(words: readonly string[]): Int32Array {
    return Int32Array.from(words.slice(0, this.maxLength), (t) => this.vocab.idOf(t));
  }

  /** The words of `text` that are not in the vocabulary, each once, in order (they read as UNK_ID). */
  unknownWords(text: string): string[] {
    return this.unknownOf(tokenize(text));
  }

  private unknownOf(words: readonly string[]): string[] {
    return [...new Set(words.filter((t) => !this.vocab.has(t)))];
  }

  /**
   * A query as the model reads it. Throws, naming `what`, for an empty text, one longer than
   * {@link MAX_QUERY_CHARS}, one without a word, and one without a single word of the vocabulary
   * (listing its unknown words): the model cannot place it.
   */
  encodeQuery(text: string, what = 'the sentence'): EncodedQuery {
    const trimmed = text.trim();
    if (!trimmed) throw new Error(`${what} is empty`);
    if (text.length > MAX_QUERY_CHARS)
      throw new Error(`${what} is ${text.length} characters long; at most ${MAX_QUERY_CHARS} are accepted`);
    const words = tokenize(trimmed);
    if (!words.length) throw new Error(`${what} (${JSON.stringify(trimmed)}) has no words`);
    const ids = this.encodeWords(words);
    const unknown = this.unknownOf(words);
    if (!hasKnownWord(ids)) {
      throw new Error(
        `${what} (${JSON.stringify(trimmed)}) has no word the model knows (unknown: ${unknown.join(', ')}); ` +
          `its vocabulary is the ${this.vocab.size} words of the training captions`,
      );
    }
    return { ids, unknown };
  }
}
