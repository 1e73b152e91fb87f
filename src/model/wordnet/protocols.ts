/**
 * Train / validation / test splits of the WordNet hypernym pairs under two protocols, the negatives, the
 * transitive-closure baseline, and threshold selection.
 *
 * 'paper' -- the protocol of Vendrov et al. 2016 (Sect. 4.1) as their code ran it
 *   (github.com/ivendrov/order-embeddings-wordnet): the closure list *with* one copy of a pair per
 *   distinct hypernym path (838,073 pairs on WordNet 3.1, see ./closure.ts) is shuffled; its first 4000
 *   pairs are the test positives, the next 4000 the validation positives, the rest the training positives.
 *   Every positive of the validation and test sets gets one negative by replacing one of its two ends
 *   (chosen at random) with a random node ("contrastive" corruption, after Socher et al. 2013); training
 *   negatives are drawn the same way, afresh each epoch. Nothing is filtered, so
 *   - a pair with several paths can be both a test positive and a training positive (~1/5 of the tests);
 *   - a corruption can be a true pair, labelled negative (replacing the hyponym of (x, entity.n.01)
 *     always gives a true pair): about 1 negative in 7.
 *
 * 'corrected' -- unique closure pairs; the 4000 + 4000 held-out positives are not in training; evaluation
 *   negatives are redrawn until they are not in the full closure (and not a node paired with itself);
 *   training negatives are redrawn until they are not in the closure of the *training* pairs -- what the
 *   learner may know: filtering them against the full closure would tell it which held-out pairs are true.
 *   Model and threshold are chosen on validation only (./experiment.ts).
 *
 * Transitive-closure baseline (the paper's Table 1, 88.2%): a held-out pair is predicted true iff it is
 * in the transitive closure of the training pairs.
 */
import type { Rng } from '../rng';
import {
  closureKeys,
  expandByPaths,
  hierarchyOfPairs,
  pairKey,
  transitiveClosure,
  type Closure,
} from './closure';
import type { Hierarchy } from './parse';

export type Protocol = 'paper' | 'corrected';
export const PROTOCOLS: readonly Protocol[] = ['paper', 'corrected'];

/** Pairs (hypo[k] is-a hyper[k]?) with labels 1 (true) / 0 (negative). */
export interface LabeledPairs {
  hypo: Int32Array;
  hyper: Int32Array;
  label: Uint8Array;
}

export interface SplitStats {
  nodes: number;
  /** Direct `@` + `@i` edges. */
  edges: number;
  /** Unique closure pairs. */
  closureUnique: number;
  /** Closure pairs counted once per distinct path (the paper's list). */
  closureWithPaths: number;
  /** Positives the split was drawn from (closureWithPaths for 'paper', closureUnique for 'corrected'). */
  positives: number;
  trainPositives: number;
  /** Test / validation positives whose pair is also a training positive. */
  testPositivesInTrain: number;
  valPositivesInTrain: number;
  /** Test / validation negatives that are true pairs of the full closure. */
  testNegativesTrue: number;
  valNegativesTrue: number;
  /** Share of unfiltered random corruptions of training positives that are true pairs (a 100k sample). */
  corruptionTrueShare: number;
  /** Test positives in the closure of the training pairs (what the closure baseline recovers). */
  testPositivesDerivable: number;
}

export interface Split {
  protocol: Protocol;
  /** Number of nodes. */
  n: number;
  train: { hypo: Int32Array; hyper: Int32Array };
  val: LabeledPairs;
  test: LabeledPairs;
  /** Keys (pairKey) of the full closure: every true pair. */
  closure: Set<number>;
  /** Keys (pairKey) of the closure of the training pairs. */
  trainClosure: Set<number>;
  /** Pairs training negatives may not be (null: unfiltered, as in the paper). */
  trainForbidden: Set<number> | null;
  stats: SplitStats;
}

export interface SplitOptions {
  /** Held-out positives per set (4000 in the paper). */
  heldOut?: number;
}

/**
 * Replaces one end of (x, y), each with probability 1/2, by a node drawn uniformly (the paper's
 * "contrastive" corruption). With `forbidden`, redraws until the pair is neither forbidden nor a node
 * paired with itself (gives up after 1000 draws, which only a degenerate hierarchy needs).
 */
export function corrupt(
  x: number,
  y: number,
  n: number,
  rng: Rng,
  forbidden: Set<number> | null,
): [number, number] {
  for (let tries = 0; ; tries++) {
    const r = rng.int(n);
    const pair: [number, number] = rng.next() < 0.5 ? [r, y] : [x, r];
    if (!forbidden) return pair;
    if (pair[0] !== pair[1] && !forbidden.has(pairKey(pair[0], pair[1], n))) return pair;
    if (tries >= 1000)
      throw new Error(`corrupt: no admissible negative for pair (${x}, ${y}) after 1000 draws`);
  }
}

function labeled(
  hypo: Int32Array,
  hyper: Int32Array,
  n: number,
  rng: Rng,
  forbidden: Set<number> | null,
): LabeledPairs {
  const m = hypo.length;
  const out: LabeledPairs = {
    hypo: new Int32Array(2 * m),
    hyper: new Int32Array(2 * m),
    label: new Uint8Array(2 * m),
  };
  out.hypo.set(hypo);
  out.hyper.set(hyper);
  out.label.fill(1, 0, m);
  for (let k = 0; k < m; k++) {
    const [a, b] = corrupt(hypo[k], hyper[k], n, rng, forbidden);
    out.hypo[m + k] = a;
    out.hyper[m + k] = b;
  }
  return out;
}

function countIn(p: LabeledPairs, set: Set<number>, n: number, label: 0 | 1): number {
  let c = 0;
  for (let k = 0; k < p.label.length; k++)
    if (p.label[k] === label && set.has(pairKey(p.hypo[k], p.hyper[k], n))) c++;
  return c;
}

/** Builds the split of `protocol` from a hierarchy (or its precomputed closure). */
export function buildSplit(
  h: Hierarchy,
  protocol: Protocol,
  rng: Rng,
  opts: SplitOptions & { closure?: Closure } = {},
): Split {
  const n = h.names.length;
  const heldOut = opts.heldOut ?? 4000;
  const closure = opts.closure ?? transitiveClosure(h);
  const full = closureKeys(closure);
  const list = protocol === 'paper' ? expandByPaths(closure) : { hypo: closure.hypo, hyper: closure.hyper };
  const total = list.hypo.length;
  if (total < 2 * heldOut + 1)
    throw new Error(
      `buildSplit: ${total} positives cannot give ${heldOut} test + ${heldOut} validation + training`,
    );
  const order = rng.shuffle(Array.from({ length: total }, (_, i) => i));
  const take = (from: number, count: number) => {
    const idx = order.slice(from, from + count);
    return {
      hypo: Int32Array.from(idx, (i) => list.hypo[i]),
      hyper: Int32Array.from(idx, (i) => list.hyper[i]),
    };
  };
  const testPos = take(0, heldOut);
  const valPos = take(heldOut, heldOut);
  const train = take(2 * heldOut, total - 2 * heldOut);

  const trainClosure = closureKeys(
    transitiveClosure(hierarchyOfPairs(h.names, train.hypo, train.hyper), { countPaths: false }),
  );
  const evalForbidden = protocol === 'corrected' ? full : null;
  const test = labeled(testPos.hypo, testPos.hyper, n, rng, evalForbidden);
  const val = labeled(valPos.hypo, valPos.hyper, n, rng, evalForbidden);

  const trainSet = new Set<number>();
  for (let k = 0; k < train.hypo.length; k++) trainSet.add(pairKey(train.hypo[k], train.hyper[k], n));
  let trueCorruptions = 0;
  const sample = Math.min(100_000, train.hypo.length);
  for (let s = 0; s < sample; s++) {
    const k = rng.int(train.hypo.length);
    const [a, b] = corrupt(train.hypo[k], train.hyper[k], n, rng, null);
    if (full.has(pairKey(a, b, n))) trueCorruptions++;
  }

  return {
    protocol,
    n,
    train,
    val,
    test,
    closure: full,
    trainClosure,
    trainForbidden: protocol === 'corrected' ? trainClosure : null,
    stats: {
      nodes: n,
      edges: h.parents.reduce((s, ps) => s + ps.length, 0),
      closureUnique: closure.hypo.length,
      closureWithPaths: closure.paths.reduce((s, c) => s + c, 0),
      positives: total,
      trainPositives: train.hypo.length,
      testPositivesInTrain: countIn(test, trainSet, n, 1),
      valPositivesInTrain: countIn(val, trainSet, n, 1),
      testNegativesTrue: countIn(test, full, n, 0),
      valNegativesTrue: countIn(val, full, n, 0),
      corruptionTrueShare: trueCorruptions / sample,
      testPositivesDerivable: countIn(test, trainClosure, n, 1),
    },
  };
}

/** Accuracy of predicting "true" exactly for the pairs in the closure of the training pairs. */
export function closureBaselineAccuracy(split: Split, set: LabeledPairs = split.test): number {
  let right = 0;
  for (let k = 0; k < set.label.length; k++) {
    const predicted = split.trainClosure.has(pairKey(set.hypo[k], set.hyper[k], split.n)) ? 1 : 0;
    if (predicted === set.label[k]) right++;
  }
  return right / set.label.length;
}

/**
 * The threshold t on the energy that classifies a labelled set best when "E <= t" means true, and the
 * accuracy it gets. Only cuts between distinct energies count (many order energies are exactly 0), and
 * t is the midpoint of the energies on either side of the cut.
 */
export function bestThreshold(
  energies: Float32Array,
  label: Uint8Array,
): { threshold: number; accuracy: number } {
  const m = energies.length;
  if (m === 0 || m !== label.length)
    throw new Error(`bestThreshold: ${m} energies for ${label.length} labels`);
  const idx = Array.from({ length: m }, (_, i) => i).sort((a, b) => energies[a] - energies[b]);
  let negatives = 0;
  for (let k = 0; k < m; k++) if (label[k] === 0) negatives++;
  // Cut after i sorted pairs: those i are predicted true.
  let best = negatives; // i = 0: all predicted false
  let bestI = 0;
  let correct = negatives;
  for (let i = 1; i <= m; i++) {
    correct += label[idx[i - 1]] === 1 ? 1 : -1;
    if ((i === m || energies[idx[i]] > energies[idx[i - 1]]) && correct > best) {
      best = correct;
      bestI = i;
    }
  }
  const lo = bestI === 0 ? energies[idx[0]] - 1 : energies[idx[bestI - 1]];
  const hi = bestI === m ? energies[idx[m - 1]] + 1 : energies[idx[bestI]];
  return { threshold: (lo + hi) / 2, accuracy: best / m };
}

/** Accuracy of "E <= threshold means true". */
export function accuracyAt(energies: Float32Array, label: Uint8Array, threshold: number): number {
  let right = 0;
  for (let k = 0; k < energies.length; k++) if ((energies[k] <= threshold ? 1 : 0) === label[k]) right++;
  return right / energies.length;
}

/** How many pairs of one kind there are and how many of them a classifier called true. */
export interface Tally {
  count: number;
  predictedTrue: number;
}

/**
 * Where a classification of a held-out set ("E <= threshold means true") is right and wrong, by kind of
 * pair: positives that are also training positives (the paper's duplicates) or not, and negatives that
 * are true pairs of the closure (unfiltered corruptions) or not.
 */
export interface HeldOutBreakdown {
  positivesInTrain: Tally;
  positivesNotInTrain: Tally;
  negativesThatAreTrue: Tally;
  negativesThatAreFalse: Tally;
}

export function heldOutBreakdown(
  split: Split,
  set: LabeledPairs,
  energies: Float32Array,
  threshold: number,
): HeldOutBreakdown {
  const train = new Set<number>();
  for (let k = 0; k < split.train.hypo.length; k++)
    train.add(pairKey(split.train.hypo[k], split.train.hyper[k], split.n));
  const out: HeldOutBreakdown = {
    positivesInTrain: { count: 0, predictedTrue: 0 },
    positivesNotInTrain: { count: 0, predictedTrue: 0 },
    negativesThatAreTrue: { count: 0, predictedTrue: 0 },
    negativesThatAreFalse: { count: 0, predictedTrue: 0 },
  };
  for (let k = 0; k < set.label.length; k++) {
    const key = pairKey(set.hypo[k], set.hyper[k], split.n);
    const t =
      set.label[k] === 1
        ? train.has(key)
          ? out.positivesInTrain
          : out.positivesNotInTrain
        : split.closure.has(key)
          ? out.negativesThatAreTrue
          : out.negativesThatAreFalse;
    t.count++;
    if (energies[k] <= threshold) t.predictedTrue++;
  }
  return out;
}
