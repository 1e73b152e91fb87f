/**
 * Validation of weights.json: the weights a model of a given configuration has, and a manifest checked
 * against them and against the byte length of weights.bin (a truncated file, trailing bytes, overlapping
 * or misaligned weights are refused), so that a small file cannot make the importer allocate gigabytes.
 */
import type { WeightsManifest } from './export';
import type { ModelConfig } from './types';
import { arr, fail, int, oneOf, rec, RunValidationError, str } from './validate-fields';

/**
 * The weights a model of this configuration has, in file order, with their shapes (as
 * OrderEmbeddingModel.weightShapes, without building the model).
 */
export function expectedWeightShapes(m: ModelConfig): { name: string; shape: number[] }[] {
  const { vocabSize: V, wordDim: W, hiddenDim: H, imageDim: F } = m;
  const ln = m.layerNorm
    ? ['ln_weight_ih', 'ln_bias_ih', 'ln_weight_hh', 'ln_bias_hh'].map((n) => ({
        name: `gru.${n}`,
        shape: [3 * H],
      }))
    : [];
  return [
    { name: 'word_embedding', shape: [V, W] },
    { name: 'gru.weight_ih', shape: [3 * H, W] },
    { name: 'gru.weight_hh', shape: [3 * H, H] },
    { name: 'gru.bias_ih', shape: [3 * H] },
    { name: 'gru.bias_hh', shape: [3 * H] },
    ...ln,
    { name: 'image.weight', shape: [H, F] },
    { name: 'image.bias', shape: [H] },
  ];
}

const DTYPE_BYTES = { float32: 4, float16: 2 } as const;

/**
 * weights.json against the model it must fill and the byte length of weights.bin: every expected
 * weight once, with its shape, aligned, inside the file, not overlapping another; no bytes left over.
 */
export function validateWeightsManifest(
  v: unknown,
  model: ModelConfig,
  byteLength: number,
  file = 'weights.json',
  binFile = 'weights.bin',
): WeightsManifest {
  const m = rec(file, v);
  if (m.format !== 'orderembed-weights') fail(`${file}: format`, "'orderembed-weights'", m.format);
  if (m.version !== 1) fail(`${file}: version`, '1', m.version);
  const dtype = oneOf(`${file}: dtype`, m.dtype, ['float32', 'float16'] as const);
  if (m.byteOrder !== undefined && m.byteOrder !== 'little')
    fail(`${file}: byteOrder`, "'little'", m.byteOrder);
  const size = DTYPE_BYTES[dtype];
  const expected = new Map(expectedWeightShapes(model).map((w) => [w.name, w.shape]));
  const list = arr(`${file}: weights`, m.weights, 64);
  const seen = new Set<string>();
  const spans: { name: string; start: number; end: number }[] = [];
  const weights = list.map((w, i) => {
    const at = `${file}: weights[${i}]`;
    const e = rec(at, w);
    const name = str(`${at}.name`, e.name, 200);
    const want = expected.get(name);
    if (!want)
      throw new RunValidationError(
        `${at}: unexpected weight '${name}' (this model has ${[...expected.keys()].join(', ')})`,
      );
    if (seen.has(name)) throw new RunValidationError(`${at}: weight '${name}' appears twice`);
    seen.add(name);
    const shape = arr(`${at}.shape`, e.shape, 4).map((d, k) => int(`${at}.shape[${k}]`, d, 1, 2 ** 31));
    if (shape.join() !== want.join())
      throw new RunValidationError(
        `${file}: weight '${name}': expected shape [${want}] (from config.json), got [${shape}]`,
      );
    const offset = int(`${at}.offset`, e.offset, 0);
    if (offset % size !== 0) fail(`${at}.offset`, `a multiple of ${size} (${dtype})`, offset);
    const end = offset + shape.reduce((a, b) => a * b, 1) * size;
    if (end > byteLength)
      throw new RunValidationError(
        `${binFile}: weight '${name}' [${shape}] needs bytes ${offset}..${end} but the file holds ${byteLength} bytes (truncated?)`,
      );
    spans.push({ name, start: offset, end });
    return { name, shape, offset };
  });
  const missing = [...expected.keys()].filter((n) => !seen.has(n));
  if (missing.length) throw new RunValidationError(`${file}: missing weight(s) ${missing.join(', ')}`);
  spans.sort((a, b) => a.start - b.start);
  for (let i = 1; i < spans.length; i++)
    if (spans[i].start < spans[i - 1].end)
      throw new RunValidationError(`${file}: weights '${spans[i - 1].name}' and '${spans[i].name}' overlap`);
  const used = spans.reduce((n, s) => n + (s.end - s.start), 0);
  if (used !== byteLength)
    throw new RunValidationError(
      `${binFile}: holds ${byteLength} bytes but the weights of weights.json take ${used} (${byteLength > used ? 'trailing or stray bytes' : 'gaps'}): not the file weights.json describes`,
    );
  return { format: 'orderembed-weights', version: 1, dtype, byteOrder: 'little', weights } as WeightsManifest;
}
