/**
 * Caption tokenizer and word vocabulary for the GRU text encoder.
 *
 * Plain TypeScript with no DOM or Node APIs, so it runs unchanged in the main thread, a worker and
 * Node scripts/tests.
 *
 * Conventions:
 * - id 0 is `<pad>` (padding of shorter captions in a batch), id 1 is `<unk>` (any word that is not
 *   in the vocabulary). Real words start at id 2.
 * - The vocabulary is built from the TRAINING captions only; dev/test words that were never seen in
 *   training map to `<unk>`.
 * - Batches are time-major ([T, B]) because the GRU consumes one time step (a row of B ids) at a time.
 */

export const PAD_ID = 0;
export const UNK_ID = 1;
export const PAD_TOKEN = '<pad>';
export const UNK_TOKEN = '<unk>';

/** Apostrophes (ASCII and typographic) are deleted before splitting: "dog's" -> "dogs", "'s" -> "s". */
const APOSTROPHES = /['\u2019\u2018\u02bc`]/g;
/** Anything that is not a letter, a combining mark or a digit separates words. */
const SEPARATORS = /[^\p{L}\p{M}\p{N}]+/u;

/**
 * Splits a caption into lowercase word tokens.
 *
 * Lowercases, deletes apostrophes (so "don't" -> "dont" and Flickr8k's pre-tokenised "'s" -> "s"),
 * then splits on every run of characters that are not letters or digits and drops empty pieces.
 * Punctuation therefore disappears: `"A dog runs ."` -> `['a', 'dog', 'runs']`.
 */
export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(APOSTROPHES, '')
    .split(SEPARATORS)
    .filter((t) => t.length > 0);
}

export interface VocabularyOptions {
  /** Keep only words seen at least this many times in the training captions (default 1 = keep all). */
  minCount?: number;
  /**
   * Upper bound on the vocabulary size INCLUDING the two reserved ids; the most frequent words are kept
   * (ties broken alphabetically). Default: unlimited.
   */
  maxSize?: number;
}

/**
 * Pads encoded captions into a time-major [T, B] batch (PAD_ID = 0 after each caption's end); captions
 * longer than `maxLen` keep their first `maxLen` ids.
 */
export function padTimeMajor(seqs: readonly ArrayLike<number>[], maxLen?: number): EncodedBatch {
  const B = seqs.length;
  if (B === 0) throw new Error('a caption batch needs at least one caption, got 0');
  const lengths = new Int32Array(B);
  let T = 0;
  seqs.forEach((seq, b) => {
    lengths[b] = maxLen !== undefined ? Math.min(seq.length, maxLen) : seq.length;
    if (lengths[b]! > T) T = lengths[b]!;
  });
  const ids = new Int32Array(T * B); // zero-filled = PAD_ID
  seqs.forEach((seq, b) => {
    for (let t = 0; t < lengths[b]!; t++) ids[t * B + b] = seq[t]!;
  });
  return { ids, lengths, T, B };
}

/** Serialized vocabulary (for export next to the model weights). */
export interface VocabularyJSON {
  format: 'orderembed-vocab';
  version: 1;
  /** tokens[id] is the word of id; tokens[0] = '<pad>', tokens[1] = '<unk>'. */
  tokens: string[];
}

/** A padded, time-major batch of encoded captions. */
export interface EncodedBatch {
  /** Time-major [T, B] word ids: ids[t * B + b] is word t of caption b; 0 (`<pad>`) past its length. */
  ids: Int32Array;
  /** lengths[b] = number of real tokens of caption b (after truncation to maxLen), always >= 1. */
  lengths: Int32Array;
  /** Number of time steps = the longest (truncated) caption. */
  T: number;
  /** Number of captions (batch size). */
  B: number;
}

/** A caption that has no word in the vocabulary (reported by {@link Vocabulary.checkKnown}). */
export interface UnknownCaption {
  /** Index of the caption in the list that was checked. */
  index: number;
  text: string;
}

function describe(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return JSON.stringify(shown);
}

/**
 * Tokenizes caption `index`, throwing a clear error when it is not a string, empty or yields no tokens.
 */
function tokenizeCaption(text: unknown, index: number): string[] {
  if (typeof text !== 'string') {
    throw new Error(`caption ${index} must be a string, got ${text === null ? 'null' : typeof text}`);
  }
  if (text.trim().length === 0) {
    throw new Error(`caption ${index} is empty (${describe(text)}); every caption needs at least one word`);
  }
  const tokens = tokenize(text);
  if (tokens.length === 0) {
    throw new Error(
      `caption ${index} has no word tokens (${describe(text)}); expected at least one letter or digit`,
    );
  }
  return tokens;
}

function checkPositiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, got ${value}`);
  }
}

export class Vocabulary {
  private readonly tokens: readonly string[];
  private readonly index: Map<string, number>;

  /**
   * @param tokens tokens[id] = word; must start with '<pad>', '<unk>' and contain no duplicates.
   *   Prefer {@link Vocabulary.build} or {@link Vocabulary.fromJSON}.
   */
  constructor(tokens: readonly string[]) {
    if (tokens.length < 2 || tokens[PAD_ID] !== PAD_TOKEN || tokens[UNK_ID] !== UNK_TOKEN) {
      throw new Error(
        `vocabulary tokens must start with '${PAD_TOKEN}', '${UNK_TOKEN}', got ${JSON.stringify(tokens.slice(0, 2))}`,
      );
    }
    const index = new Map<string, number>();
    tokens.forEach((tok, id) => {
      if (typeof tok !== 'string' || tok.length === 0) {
        throw new Error(`vocabulary token ${id} must be a non-empty string, got ${JSON.stringify(tok)}`);
      }
      const prev = index.get(tok);
      if (prev !== undefined) {
        throw new Error(`vocabulary token ${JSON.stringify(tok)} appears twice (ids ${prev} and ${id})`);
      }
      index.set(tok, id);
    });
    this.tokens = [...tokens];
    this.index = index;
  }

  /**
   * Builds a vocabulary from training captions. Words are ordered by decreasing count, ties
   * alphabetically, so the result is deterministic for a given caption list.
   * Throws if a caption is empty or has no word tokens (the error names its index and text).
   */
  static build(texts: readonly string[], options: VocabularyOptions = {}): Vocabulary {
    const minCount = options.minCount ?? 1;
    checkPositiveInt('minCount', minCount);
    if (options.maxSize !== undefined) {
      checkPositiveInt('maxSize', options.maxSize);
      if (options.maxSize < 2) {
        throw new Error(
          `maxSize must be at least 2 (the reserved '<pad>' and '<unk>'), got ${options.maxSize}`,
        );
      }
    }
    if (texts.length === 0) {
      throw new Error('cannot build a vocabulary from zero captions; expected the training captions');
    }
    const counts = new Map<string, number>();
    texts.forEach((text, i) => {
      for (const tok of tokenizeCaption(text, i)) counts.set(tok, (counts.get(tok) ?? 0) + 1);
    });
    let words = [...counts.entries()]
      .filter(([, c]) => c >= minCount)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([w]) => w);
    if (options.maxSize !== undefined) words = words.slice(0, options.maxSize - 2);
    return new Vocabulary([PAD_TOKEN, UNK_TOKEN, ...words]);
  }

  /** Restores a vocabulary saved with {@link Vocabulary.toJSON} (accepts the object or its JSON string). */
  static fromJSON(json: unknown): Vocabulary {
    const obj: unknown = typeof json === 'string' ? JSON.parse(json) : json;
    if (typeof obj !== 'object' || obj === null || !Array.isArray((obj as { tokens?: unknown }).tokens)) {
      throw new Error("vocabulary JSON must be an object with a 'tokens' array of strings");
    }
    const { format, version, tokens } = obj as Partial<VocabularyJSON>;
    if (format !== undefined && format !== 'orderembed-vocab') {
      throw new Error(`vocabulary JSON has format ${JSON.stringify(format)}, expected 'orderembed-vocab'`);
    }
    if (version !== undefined && version !== 1) {
      throw new Error(`vocabulary JSON has version ${JSON.stringify(version)}, expected 1`);
    }
    return new Vocabulary(tokens as string[]);
  }

  /** Number of ids, including '<pad>' and '<unk>' (= rows of the embedding table). */
  get size(): number {
    return this.tokens.length;
  }

  /** Id of a (lowercase) token, or UNK_ID if unknown. */
  idOf(token: string): number {
    return this.index.get(token) ?? UNK_ID;
  }

  /** True if the token has its own id (the reserved tokens count as known). */
  has(token: string): boolean {
    return this.index.has(token);
  }

  /** Token of an id; throws for an id outside [0, size). */
  tokenOf(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.tokens.length) {
      throw new Error(`word id ${id} is outside the vocabulary [0, ${this.tokens.length})`);
    }
    return this.tokens[id]!;
  }

  /**
   * Encodes one caption to word ids (unknown words -> UNK_ID). A caption with only unknown words is
   * accepted. Throws if the caption is empty or has no word tokens; `index` is used in that message.
   */
  encode(text: string, index = 0): number[] {
    return tokenizeCaption(text, index).map((t) => this.idOf(t));
  }

  /** Joins the tokens of `ids` with spaces; padding ids are skipped. */
  decode(ids: ArrayLike<number>): string {
    const out: string[] = [];
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      if (id !== PAD_ID) out.push(this.tokenOf(id));
    }
    return out.join(' ');
  }

  /**
   * Encodes captions into a padded time-major [T, B] batch. Captions longer than `maxLen` keep their
   * first `maxLen` tokens. Throws naming the caption index and text if a caption is empty or has no
   * word tokens, and if `texts` is empty.
   */
  encodeBatch(texts: readonly string[], maxLen?: number): EncodedBatch {
    if (maxLen !== undefined) checkPositiveInt('maxLen', maxLen);
    const B = texts.length;
    if (B === 0) throw new Error('encodeBatch needs at least one caption, got 0');
    return padTimeMajor(
      texts.map((text, i) => this.encode(text, i)),
      maxLen,
    );
  }

  /**
   * Lists the captions that contain no known word (all tokens would map to '<unk>'), including
   * captions with no tokens at all. Does not throw; the caller decides whether to drop or reject them.
   */
  checkKnown(texts: readonly string[]): UnknownCaption[] {
    const out: UnknownCaption[] = [];
    texts.forEach((text, index) => {
      const tokens = typeof text === 'string' ? tokenize(text) : [];
      if (!tokens.some((t) => this.index.has(t))) out.push({ index, text });
    });
    return out;
  }

  /** Plain-data form for export; round-trips through {@link Vocabulary.fromJSON}. */
  toJSON(): VocabularyJSON {
    return { format: 'orderembed-vocab', version: 1, tokens: [...this.tokens] };
  }
}
