/**
 * Writes the caption bank of the pretrained starter model, the sentences the playground ranks for a
 * user's own photo (its 10 best captions):
 *
 *   npm run make-caption-bank -- [--vocab-from <run folder>] [--data <flickr8k folder>] [--seed S] [--out file]
 *
 * The sentences are ours, composed over the hand-written grammar of scripts/lib/caption-bank/ (subjects, attributes, actions
 * that fit their subjects, places that fit their actions), never copied from Flickr8k: its captions are
 * for research use only and stay out of the repository. They are written in the style of Flickr8k's
 * captions (lower case, tokens separated by spaces, a final " .") at several levels of detail, each
 * sentence next to its generalisations, so the bank also shows the partial order at work:
 *
 *   a dog .  /  a black dog .  /  a black dog runs .  /  a black dog runs through the snow .
 *
 * Level of detail = the slots filled: the subject (1), an adjective (+1), an attribute after the noun
 * such as "in a red shirt" (+1), the action (+1), the place (+1); so levels 1 to 5. Every sentence of
 * level >= 2 is composed together with its shorter prefixes ("a black dog runs ." with "a black dog .").
 * The composition is deterministic for a given seed (src/model/rng.ts).
 *
 * Checks, before anything is written:
 * - every word must be in the starter's vocabulary: the `vocab` of a run folder's config.json
 *   (--vocab-from), else the vocabulary rebuilt from a Flickr8k folder's training captions exactly as the
 *   trainer builds it (--data; src/model/tokenizer.ts with the trainer's minimum word count). An unknown
 *   word stops the script, naming the sentence and the word;
 * - no sentence may be identical to a Flickr8k caption (compared as tokens, so case and punctuation do
 *   not matter): those are dropped and counted. This needs the Flickr8k captions: --data, by default
 *   $ORDEREMBED_SHARED/data/flickr8k or ../shared/data/flickr8k.
 *
 * File format (public/starter/caption-bank.txt), UTF-8, one item a line:
 * - lines starting with `#` are comments; the first one is the header
 *   `# orderembed-caption-bank v1 seed=<S> sentences=<N> dropped=<D>` (D: composed sentences dropped as
 *   identical to a Flickr8k caption);
 * - every other non-empty line is one caption, e.g. `a black dog runs through the snow .`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommand } from './cli/options';
import { MAKE_CAPTION_BANK } from './cli/commands';
import { parseCaptionFile } from '../src/model/data/flickr8k';
import { Vocabulary } from '../src/model/tokenizer';
import { DEFAULT_TRAIN } from '../src/model/trainer';
import {
  captionKey,
  dropFlickrCaptions,
  formatCaptionBank,
  parseCaptionBank,
  unknownWords,
  type CaptionBankFile,
  type UnknownWord,
} from './lib/caption-bank/bank-file';
import { composeCaptionBank, DEFAULT_SEED, type BankSentence } from './lib/caption-bank/compose';

// The test (tests/data/caption-bank.test.ts) reads the bank's parts from here, with the command's own.
export {
  captionKey,
  composeCaptionBank,
  DEFAULT_SEED,
  dropFlickrCaptions,
  formatCaptionBank,
  parseCaptionBank,
  unknownWords,
  type BankSentence,
  type CaptionBankFile,
  type UnknownWord,
};

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const DEFAULT_BANK_PATH = path.join(repoRoot, 'public', 'starter', 'caption-bank.txt');

// ---------------------------------------------------------------------------------------------------
// Command line

/** The Flickr8k folder of the shared data directory, when it exists. */
export function defaultFlickrDir(): string | undefined {
  const env = process.env.ORDEREMBED_SHARED;
  const shared = env && env.trim() !== '' ? path.resolve(env) : path.resolve(repoRoot, '..', 'shared');
  const dir = path.join(shared, 'data', 'flickr8k');
  return existsSync(dir) ? dir : undefined;
}

/** The vocabulary of a run folder's config.json (`vocab`); errors name the file. */
export function vocabularyFromRun(dir: string): Vocabulary {
  const file = path.join(dir, 'config.json');
  if (!existsSync(file)) throw new Error(`${file}: no such file (expected a run folder with a config.json)`);
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  try {
    return Vocabulary.fromJSON((config as { vocab?: unknown }).vocab);
  } catch (e) {
    throw new Error(`${file}, field 'vocab': ${(e as Error).message}`);
  }
}

/**
 * A Flickr8k folder's vocabulary, built as the trainer builds it (src/model/trainer.ts): the captions of
 * the training split's photos, read by the same code as `train --data <folder>`, with the trainer's
 * default minimum word count. Also returns every caption of the caption file, for the identity check.
 */
export async function flickrVocabulary(dir: string): Promise<{ vocab: Vocabulary; captions: string[] }> {
  const { readFlickrFolder } = await import('./lib/flickr-folder');
  const folder = readFlickrFolder(dir);
  const train = folder.data.splits.train;
  if (!train?.length)
    throw new Error(`${dir}: no training split (Flickr_8k.trainImages.txt) to build the vocabulary`);
  const inTrain = new Set(train);
  const texts = folder.data.captions.filter((c) => inTrain.has(c.image)).map((c) => c.text);
  const vocab = Vocabulary.build(texts, { minCount: DEFAULT_TRAIN.minWordCount });
  const file = { name: path.basename(folder.captionsPath), text: readFileSync(folder.captionsPath, 'utf8') };
  return { vocab, captions: parseCaptionFile(file).rows.map((r) => r.caption) };
}

async function main(): Promise<void> {
  const { values: a } = parseCommand(MAKE_CAPTION_BANK);
  const seed = a.seed ?? DEFAULT_SEED;
  const dataDir = a.data ?? defaultFlickrDir();
  if (!dataDir)
    throw new Error(
      `the Flickr8k captions are needed to drop sentences identical to one of them: give --data <flickr8k folder>`,
    );
  const flickr = await flickrVocabulary(dataDir);
  const vocabFrom = a['vocab-from'];
  const vocab = vocabFrom ? vocabularyFromRun(vocabFrom) : flickr.vocab;
  const vocabName = vocabFrom ? `${vocabFrom}/config.json` : `the training captions of ${dataDir}`;

  const composed = composeCaptionBank(seed);
  const unknown = unknownWords(
    composed.map((s) => s.text),
    vocab,
  );
  if (unknown.length) {
    const shown = unknown.slice(0, 20).map((u) => `  ${JSON.stringify(u.sentence)}: '${u.word}'`);
    throw new Error(
      `${unknown.length} word(s) not in the vocabulary of ${vocabName} (${vocab.size} words); nothing written:\n${shown.join('\n')}` +
        (unknown.length > 20 ? `\n  ... (${unknown.length} in all)` : ''),
    );
  }
  const { kept, dropped } = dropFlickrCaptions(
    composed.map((s) => s.text),
    flickr.captions,
  );
  const out = a.out === undefined ? DEFAULT_BANK_PATH : path.resolve(a.out);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, formatCaptionBank({ seed, dropped: dropped.length, sentences: kept }));

  const keptSet = new Set(kept);
  const levels = new Map<number, number>();
  for (const s of composed) if (keptSet.has(s.text)) levels.set(s.level, (levels.get(s.level) ?? 0) + 1);
  const byLevel = [...levels.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([l, n]) => `level ${l}: ${n}`)
    .join(', ');
  process.stdout.write(
    `${out}: ${kept.length} sentences (${byLevel}); composed ${composed.length}, ` +
      `${dropped.length} dropped as identical to a Flickr8k caption of ${dataDir}; ` +
      `every word in the vocabulary of ${vocabName} (${vocab.size} words)\n`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`make-caption-bank: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
