/**
 * "Which of two sentences is more general", on a model's own energy scale. In order embeddings a more
 * general sentence b sits "below" a specific one a in every coordinate (b <= a), so the order violation
 * E(a, b) = ||max(0, b - a)||^2 (paper eq. 2) is about 0 when b is more general than a. Sentence-to-
 * sentence energies have no fixed unit (the model is trained on image-caption pairs only), so the
 * thresholds of {@link generalityVerdict} are measured on a caption bank written at several levels of
 * detail ({@link calibrateGenerality}), or, without one, read from the matching pairs' energy
 * ({@link generalityScale}).
 */
import { embedSequences } from './evaluate';
import { readAndDispose } from './ops';
import type { OrderEmbeddingModel } from './model';
import { Rng } from './rng';
import type { CaptionCodec } from './caption-codec';
import { energyStats, quantile, type EnergyStats } from './energy-stats';
import { tokenize } from './tokenizer';

/**
 * The thresholds of {@link generalityVerdict} on a model's own scale. `near`: an energy counted as about
 * 0; `far`: a smaller energy above this means neither sentence contains the other; `asymmetry`: the
 * least |log((E(a,b) + near) / (E(b,a) + near))| that tells a direction.
 */
export interface GeneralityScale {
  near: number;
  far: number;
  asymmetry: number;
}

/**
 * What {@link calibrateGenerality} measured on a caption bank, and the {@link GeneralityScale} read from
 * it. A "contained" pair is two bank sentences where the words of the shorter (the general one) appear,
 * in order, in the longer (the specific one): "a dog" / "a black dog runs on the grass". An "unrelated"
 * pair is two bank sentences that share no content word ({@link FUNCTION_WORDS} aside).
 */
export interface GeneralityCalibration extends GeneralityScale {
  sentences: number;
  containedPairs: number;
  unrelatedPairs: number;
  /** E(specific, general) of the contained pairs: about 0 when the model puts the general one below. */
  contained: EnergyStats;
  /** E(general, specific) of the same pairs. */
  reverse: EnergyStats;
  /** The smaller of the two energies of each unrelated pair. */
  unrelated: EnergyStats;
  /**
   * Share of the measured pairs that {@link generalityVerdict} reads right with this scale: contained
   * pairs told the right direction, unrelated pairs told no direction.
   */
  agreement: { contained: number; unrelated: number };
}

/** Words that do not make two sentences related ("a dog" and "a man on the grass" share none). */
export const FUNCTION_WORDS: ReadonlySet<string> = new Set(
  (
    'a an the is are was were be been being am and or of in on at to into onto from by for with without ' +
    'near over under through across along down up off out around behind beside next front while as ' +
    'his her their its some one two three four several many other another each this that these those'
  ).split(' '),
);

/** Whether the words `general` appear, in order, within the longer `specific`. */
export function extendsWords(specific: readonly string[], general: readonly string[]): boolean {
  if (general.length === 0 || general.length >= specific.length) return false;
  let j = 0;
  for (const w of specific) if (j < general.length && w === general[j]) j++;
  return j === general.length;
}

/** The share of `values` for which `ok` holds. */
const share = <T>(values: readonly T[], ok: (v: T, i: number) => boolean): number =>
  values.length ? values.filter(ok).length / values.length : Number.NaN;

export interface GeneralityOptions {
  /** At most this many pairs of each kind (drawn at random, seeded). Default 4000. */
  maxPairs?: number;
  seed?: number;
}

/**
 * Measures the caption-to-caption energy scale of "which is more general" on a caption bank written at
 * several levels of detail (see {@link GeneralityCalibration} for the pairs), and reads the thresholds of
 * {@link generalityVerdict} from it:
 *
 * - `near`: the 10th percentile of E(specific, general) over contained pairs ("about 0": as low as the
 *   lowest tenth of true containments);
 * - `far`: halfway between the 95th percentile of the same and the 5th percentile of unrelated pairs'
 *   smaller energy: the border between the two measured populations. A pair whose smaller energy is
 *   above it looks more like two unrelated sentences than like a containment. (The contained pairs'
 *   95th percentile alone read long extensions, "a black dog runs on the grass" under "a dog", as
 *   unrelated although unrelated pairs sit well above them.)
 * - `asymmetry`: the 90th percentile, over unrelated pairs, of |log((E(a,b) + near) / (E(b,a) + near))|:
 *   a direction is only told when the two energies differ more than for 9 in 10 unrelated pairs (the
 *   `near` offset keeps two energies that are both about 0 from looking lopsided).
 *
 * The model is trained on image-caption pairs only, so caption-to-caption energies have their own scale,
 * which this measures instead of assuming one. Throws when the bank holds too few pairs of either kind.
 */
export async function calibrateGenerality(
  model: OrderEmbeddingModel,
  codec: CaptionCodec,
  bank: readonly string[],
  opts: GeneralityOptions = {},
): Promise<GeneralityCalibration> {
  if (model.config.measure !== 'order')
    throw new Error('generality is told by order-violation energies: this run uses cosine similarity');
  const maxPairs = opts.maxPairs ?? 4000;
  // One entry per distinct known-word sequence (the bank may repeat a sentence up to punctuation).
  const seen = new Set<string>();
  const words: string[][] = [];
  for (const text of bank) {
    const w = tokenize(text).filter((t) => codec.vocab.has(t));
    const key = w.join(' ');
    if (!w.length || seen.has(key)) continue;
    seen.add(key);
    words.push(w);
  }
  const rng = new Rng(opts.seed ?? 1);
  // Contained pairs: every (specific, general) pair of the bank, then a seeded sample of them.
  let contained: [number, number][] = [];
  for (let s = 0; s < words.length; s++)
    for (let g = 0; g < words.length; g++) if (extendsWords(words[s], words[g])) contained.push([s, g]);
  if (contained.length > maxPairs) {
    for (let i = 0; i < maxPairs; i++) {
      const j = i + rng.int(contained.length - i);
      [contained[i], contained[j]] = [contained[j], contained[i]];
    }
    contained = contained.slice(0, maxPairs);
  }
  const content = words.map((w) => new Set(w.filter((t) => !FUNCTION_WORDS.has(t))));
  const unrelated: [number, number][] = [];
  for (let tries = 0; unrelated.length < maxPairs && tries < 50 * maxPairs; tries++) {
    const a = rng.int(words.length);
    const b = rng.int(words.length);
    if (a !== b && ![...content[b]].some((t) => content[a].has(t))) unrelated.push([a, b]);
  }
  if (contained.length < 20 || unrelated.length < 20)
    throw new Error(
      `the caption bank gives ${contained.length} pairs where one sentence extends the other and ` +
        `${unrelated.length} unrelated pairs; 20 of each are needed to measure "which is more general"`,
    );
  // Embed only the sentences the pairs use.
  const used = [...new Set([...contained, ...unrelated].flat())];
  const rowOf = new Map(used.map((k, r) => [k, r]));
  const emb = embedSequences(
    model,
    used.map((k) => codec.encodeWords(words[k])),
  ); // [used, H]
  const H = emb.shape[1];
  const [e] = await readAndDispose(emb);
  /** E(x, y) = ||max(0, y - x)||^2: about 0 when y is more general than x (paper eq. 2). */
  const energy = (x: number, y: number): number => {
    const ox = rowOf.get(x)! * H;
    const oy = rowOf.get(y)! * H;
    let sum = 0;
    for (let k = 0; k < H; k++) {
      const d = e[oy + k] - e[ox + k];
      if (d > 0) sum += d * d;
    }
    return sum;
  };
  const down = contained.map(([s, g]) => energy(s, g));
  const up = contained.map(([s, g]) => energy(g, s));
  const uAB = unrelated.map(([a, b]) => energy(a, b));
  const uBA = unrelated.map(([a, b]) => energy(b, a));
  const sortedDown = [...down].sort((x, y) => x - y);
  const near = quantile(sortedDown, 0.1);
  const unrelatedMin = uAB.map((x, i) => Math.min(x, uBA[i])).sort((x, y) => x - y);
  const far = (quantile(sortedDown, 0.95) + quantile(unrelatedMin, 0.05)) / 2;
  const lopsided = uAB.map((x, i) => Math.abs(Math.log((x + near) / (uBA[i] + near)))).sort((x, y) => x - y);
  const scale: GeneralityScale = { near, far, asymmetry: quantile(lopsided, 0.9) };
  const verdict = (ab: number, ba: number) => generalityVerdict(ab, ba, near, scale.far, scale.asymmetry);
  return {
    ...scale,
    sentences: words.length,
    containedPairs: contained.length,
    unrelatedPairs: unrelated.length,
    contained: energyStats(down),
    reverse: energyStats(up),
    unrelated: energyStats(unrelatedMin),
    agreement: {
      // Sentence A specific, B general: the right verdict is "B is more general".
      contained: share(contained, (_, i) => verdict(down[i], up[i]) === 'b-more-general'),
      // Unrelated pairs: right when no direction is told ('unrelated', or 'equivalent' when both are ~0).
      unrelated: share(unrelated, (_, i) => !verdict(uAB[i], uBA[i]).endsWith('more-general')),
    },
  };
}

/** Without a measured scale, a direction is told when one energy is less than 3/4 of the other. */
export const DEFAULT_ASYMMETRY = Math.log(4 / 3);

export type GeneralityVerdict = 'a-more-general' | 'b-more-general' | 'equivalent' | 'unrelated';

/**
 * The scale of a model without a measured {@link GeneralityCalibration} (a run trained in the page, a
 * calibration file from before it): from the median energy of matching image-caption pairs, half of it
 * about 0 and twice it far, and a direction told only when one energy is less than 3/4 of the other.
 */
export function generalityScale(typicalMatching: number): GeneralityScale {
  return { near: 0.5 * typicalMatching, far: 2 * typicalMatching, asymmetry: DEFAULT_ASYMMETRY };
}

/**
 * Which of two sentences is more general, from the order-violation energies. In order embeddings a more
 * general sentence b sits "below" a specific one a in every coordinate (b <= a), so eAB = E(a, b) =
 * ||max(0, b - a)||^2 is about 0 when b is more general than a, and eBA the other way round.
 *
 * 1. Both energies about 0 (at most `near`): 'equivalent'.
 * 2. The two differ no more than `asymmetry` (|log((eAB + near) / (eBA + near))|): no direction can be
 *    told; 'equivalent' when the smaller is about 0, else 'unrelated' (a verdict on a small difference
 *    between two violations would be noise).
 * 3. Both energies far from 0 (the smaller above `far`): 'unrelated': neither contains the other.
 * 4. Otherwise the sentence on the side of the smaller violation is the more general one.
 */
export function generalityVerdict(
  eAB: number,
  eBA: number,
  near: number,
  far = 4 * near,
  asymmetry = DEFAULT_ASYMMETRY,
): GeneralityVerdict {
  if (eAB <= near && eBA <= near) return 'equivalent';
  const lopsided = Math.abs(Math.log((eAB + near) / (eBA + near)));
  if (!(lopsided >= asymmetry)) return Math.min(eAB, eBA) <= near ? 'equivalent' : 'unrelated';
  if (Math.min(eAB, eBA) > far) return 'unrelated';
  return eAB < eBA ? 'b-more-general' : 'a-more-general';
}
