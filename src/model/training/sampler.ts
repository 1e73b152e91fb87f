/**
 * The batch sampler: which (image, caption) pairs each training step sees. Deterministic given its
 * generators' seeds, and its whole position is plain data ({@link SamplerState}), so a checkpoint can
 * save it and a step can put it back.
 *
 * - sampling 'image' (the default): each epoch visits every training image once, in a shuffled order,
 *   with one of its captions drawn at random; batches of B such pairs, running on across epochs.
 * - sampling 'caption': each epoch visits every training caption once; batches hold captions of nearly
 *   equal length (less padding in the GRU's time steps), in a shuffled batch order.
 *
 * Either way a batch never holds the same image twice: in the contrastive loss every other caption of a
 * batch is a negative for an image, and a second caption of the same image would be a false negative.
 */
import type { Rng } from '../rng';
import type { Dataset, TrainConfig } from '../types';
import type { TrainingCaptions } from './captions';

/** The sampler's position and generators (a checkpoint saves exactly these). */
export interface SamplerState {
  /** States of the batch generator and of the augmentation-view generator. */
  rng: number;
  viewRng: number;
  /** sampling 'image': this epoch's image order and the position in it. */
  order: number[];
  cursor: number;
  /** sampling 'caption': this epoch's batches (caption indices) and the next one to use. */
  captionBatches: number[][];
  batchCursor: number;
  /** Completed passes over the training images (or captions). */
  epochs: number;
}

/** One step's pairs: captions[i] describes images[i]. */
export interface Batch {
  images: number[];
  captions: number[];
}

export class BatchSampler {
  private order: number[] = [];
  private cursor = 0;
  private captionBatches: number[][] = [];
  private batchCursor = 0;
  private epochs = 0;

  /**
   * `rng` draws the batches, `viewRng` the augmentation views: separate generators, so that a run with
   * augmentation sees the same batches as one without.
   */
  constructor(
    private readonly dataset: Dataset,
    private readonly captions: TrainingCaptions,
    private readonly train: Pick<TrainConfig, 'batchSize' | 'sampling' | 'augment'>,
    private readonly rng: Rng,
    private readonly viewRng: Rng,
  ) {}

  /** Completed passes over the training images (or captions, with sampling 'caption'). */
  get epochsDone(): number {
    return this.epochs;
  }

  /** Pairs in a batch: batchSize, or fewer when there are fewer training images. */
  private get batchSize(): number {
    return Math.min(this.train.batchSize, this.captions.byImage.size);
  }

  /** Batches in one epoch (one pass over the training images or captions). */
  get stepsPerEpoch(): number {
    const B = this.batchSize;
    if (this.train.sampling === 'image') return Math.ceil(this.captions.byImage.size / B);
    let n = 0;
    for (const list of this.captions.byImage.values()) n += list.length;
    return Math.ceil(n / B);
  }

  /**
   * Steps that make `epochs` passes. With sampling 'image' batches run on across epoch boundaries, so
   * this is ceil(epochs x images / B); with 'caption' each epoch has its own batches.
   */
  stepsForEpochs(epochs: number): number {
    if (this.train.sampling === 'caption') return epochs * this.stepsPerEpoch;
    return Math.ceil((epochs * this.captions.byImage.size) / this.batchSize);
  }

  /** The next batch; moves the sampler on. */
  next(): Batch {
    if (this.train.sampling === 'caption') {
      if (this.batchCursor >= this.captionBatches.length) {
        if (this.captionBatches.length) this.epochs++;
        this.captionBatches = this.lengthSortedBatches();
        this.batchCursor = 0;
      }
      const captions = this.captionBatches[this.batchCursor++];
      return { images: captions.map((k) => this.dataset.captions[k].image), captions };
    }
    const B = this.batchSize;
    const images: number[] = [];
    const captions: number[] = [];
    while (images.length < B) {
      if (this.cursor >= this.order.length) {
        if (this.order.length) this.epochs++;
        this.order = this.rng.shuffle([...this.captions.byImage.keys()].sort((a, b) => a - b));
        this.cursor = 0;
        // A batch never holds the same image twice: its other entries would be false negatives.
        if (images.length)
          this.order = this.order
            .filter((i) => !images.includes(i))
            .concat(this.order.filter((i) => images.includes(i)));
      }
      const img = this.order[this.cursor++];
      const list = this.captions.byImage.get(img)!;
      images.push(img);
      captions.push(list[this.rng.int(list.length)]);
    }
    return { images, captions };
  }

  /**
   * With augmentation (TrainConfig.augment), the feature matrix each of n batch images is read from,
   * drawn at random among the dataset's features and its other views; undefined without.
   */
  views(n: number): Float32Array[] | undefined {
    if (!this.train.augment) return undefined;
    const all = [this.dataset.features, ...(this.dataset.featureViews ?? [])];
    return Array.from({ length: n }, () => all[this.viewRng.int(all.length)]);
  }

  /** Where the sampler stands (its arrays are replaced, never changed in place, when it moves on). */
  state(): SamplerState {
    return {
      rng: this.rng.getState(),
      viewRng: this.viewRng.getState(),
      order: this.order,
      cursor: this.cursor,
      captionBatches: this.captionBatches,
      batchCursor: this.batchCursor,
      epochs: this.epochs,
    };
  }

  /** Puts the sampler back to `s` (from {@link state}, or a checkpoint's copy). */
  restore(s: SamplerState): void {
    this.rng.setState(s.rng);
    this.viewRng.setState(s.viewRng);
    this.order = s.order;
    this.cursor = s.cursor;
    this.captionBatches = s.captionBatches;
    this.batchCursor = s.batchCursor;
    this.epochs = s.epochs;
  }

  /**
   * One epoch of sampling 'caption': all training captions, ordered by length (ties in random order), cut
   * into batches of B; a caption whose image is already in the batch moves on to the next batch. The
   * batch order is shuffled, so consecutive steps see different lengths.
   */
  private lengthSortedBatches(): number[][] {
    const B = this.batchSize;
    const { byImage, encoded } = this.captions;
    const all: number[] = [];
    for (const img of [...byImage.keys()].sort((a, b) => a - b)) all.push(...byImage.get(img)!);
    const shuffled = this.rng.shuffle(all);
    const rank = new Map(shuffled.map((k, r) => [k, r]));
    shuffled.sort((a, b) => encoded[a]!.length - encoded[b]!.length || rank.get(a)! - rank.get(b)!);
    const batches: number[][] = [];
    let current: number[] = [];
    let seen = new Set<number>();
    let carry: number[] = [];
    const flush = () => {
      batches.push(current);
      current = [];
      seen = new Set();
      const pending = carry;
      carry = [];
      for (const k of pending) add(k);
    };
    const add = (k: number) => {
      const img = this.dataset.captions[k].image;
      if (seen.has(img)) carry.push(k);
      else {
        current.push(k);
        seen.add(img);
        if (current.length === B) flush();
      }
    };
    for (const k of shuffled) add(k);
    // The tail: the last partial batch, then captions still waiting for a batch without their image.
    // A one-caption batch has no negatives; it is skipped (its caption is seen again next epoch).
    while (current.length >= 2) flush();
    return this.rng.shuffle(batches);
  }
}
