/**
 * The caption bank's checks (every word in the vocabulary, no sentence identical to a Flickr8k caption)
 * and its file format (public/starter/caption-bank.txt; described in scripts/make-caption-bank.ts).
 */
import { tokenize, type Vocabulary } from '../../../src/model/tokenizer';

const HEADER = /^# orderembed-caption-bank v1 seed=(\d+) sentences=(\d+) dropped=(\d+)$/;

/** A word of a sentence that the vocabulary lacks. */
export interface UnknownWord {
  sentence: string;
  word: string;
}

/** The words of the sentences that are not in the vocabulary (every occurrence, in order). */
export function unknownWords(sentences: readonly string[], vocab: Vocabulary): UnknownWord[] {
  return sentences.flatMap((sentence) =>
    tokenize(sentence)
      .filter((word) => !vocab.has(word))
      .map((word) => ({ sentence, word })),
  );
}

/** A caption's identity for the Flickr8k check: its tokens, so "A dog runs." matches "a dog runs ." */
export const captionKey = (text: string): string => tokenize(text).join(' ');

/** Splits the bank into the sentences kept and those identical (as tokens) to one of `captions`. */
export function dropFlickrCaptions(
  sentences: readonly string[],
  captions: readonly string[],
): { kept: string[]; dropped: string[] } {
  const keys = new Set(captions.map(captionKey));
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const s of sentences) (keys.has(captionKey(s)) ? dropped : kept).push(s);
  return { kept, dropped };
}

export interface CaptionBankFile {
  seed: number;
  dropped: number;
  sentences: string[];
}

export function formatCaptionBank(bank: CaptionBankFile): string {
  return (
    [
      `# orderembed-caption-bank v1 seed=${bank.seed} sentences=${bank.sentences.length} dropped=${bank.dropped}`,
      '# composed by scripts/make-caption-bank.ts (npm run make-caption-bank); one caption a line',
      ...bank.sentences,
    ].join('\n') + '\n'
  );
}

/** Parses a bank file; throws naming `name` and the line when the header is missing or inconsistent. */
export function parseCaptionBank(text: string, name = 'caption bank'): CaptionBankFile {
  const lines = text.split(/\r?\n/);
  const header = HEADER.exec(lines[0] ?? '');
  if (!header)
    throw new Error(
      `${name}, line 1: expected the header '# orderembed-caption-bank v1 seed=<S> sentences=<N> dropped=<D>', got ${JSON.stringify(lines[0])}`,
    );
  const sentences = lines.map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (sentences.length !== Number(header[2]))
    throw new Error(
      `${name}: the header announces ${header[2]} sentences, the file holds ${sentences.length}`,
    );
  return { seed: Number(header[1]), dropped: Number(header[3]), sentences };
}
