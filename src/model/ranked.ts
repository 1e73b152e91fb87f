/**
 * What retrieval (./retrieval.ts) returns: ranked dataset items, ranked free texts and photos with the
 * energy to show, candidate texts reduced to what the model can tell apart; and {@link TopK}, which
 * keeps the best of a stream of scores (higher is better: S = -E for order embeddings, cosine
 * similarity for the symmetric baseline, as ./scoring.ts scores them).
 */

export interface Ranked {
  /** Index of the caption or image in the dataset. */
  index: number;
  /** Higher is better: -E (order) or cosine similarity. */
  score: number;
}

/** A ranked image of a feature gallery (the user's photos), ready to show. */
export interface RankedImage extends Ranked {
  /** Order-violation energy E (= -score) for an order model; null for a cosine model. */
  energy: number | null;
}

/** A ranked free text, ready to show. */
export interface RankedText {
  text: string;
  /** Higher is better: -E (order) or cosine similarity. */
  score: number;
  /** Order-violation energy E (= -score) for an order model; null for a cosine model. */
  energy: number | null;
}

/** A ranked dataset caption, ready to show (each text once). */
export interface RankedCaption {
  caption: number;
  image: number;
  text: string;
  score: number;
}

/** Candidate texts reduced to distinct word sequences (what the model can tell apart). */
export interface DistinctTexts {
  /** The first spelling of each distinct candidate, in input order. */
  texts: string[];
  /** Their word ids (cut to maxLength). */
  ids: Int32Array[];
  /** Candidates left out because they repeat an earlier one (same words). */
  repeated: number;
  /** Candidates left out because they hold no word of the vocabulary (the texts, at most 20). */
  unknownOnly: string[];
  /** Words of the candidates that are not in the vocabulary (at most 50). */
  unknownWords: string[];
}

/** Keeps the `k` best (highest score) of a stream of scores, in descending order. */
export class TopK {
  private readonly items: Ranked[] = [];
  constructor(private readonly k: number) {}

  push(index: number, score: number): void {
    const items = this.items;
    if (items.length === this.k && score <= items[items.length - 1].score) return;
    // Insertion into a short sorted list: k is a page of results, not the gallery.
    let at = items.length;
    while (at > 0 && items[at - 1].score < score) at--;
    items.splice(at, 0, { index, score });
    if (items.length > this.k) items.pop();
  }

  result(): Ranked[] {
    return this.items.slice();
  }
}
