/**
 * Every default of a training run, in one object, each value with the reason it is that value (in the
 * manner of nanoGPT's config files). The Trainer (./trainer.ts), the Train form (src/ui/store/form.ts,
 * src/ui/ConfigPanel.tsx), `npm run train` and `npm run compare` (scripts/cli/commands.ts) all read it;
 * where they differ on purpose the difference is a named preset here (`paper`, `quickCli`, `playground`),
 * not a literal in their code.
 *
 * {@link TRAIN_OPTIONS} is the table of the numeric training options that every surface offers the same
 * way: one entry gives the TrainConfig field, its default, its range, the `train` / `compare` flag and
 * the form field. Adding such an option is one entry there plus what it does (e.g. the learning-rate
 * schedule in ./driver.ts): the config type, the form, both CLIs, their help, docs/cli.md, the run
 * validation and the checkpoint follow from the entry.
 */
import { DEFAULT_MAX_LENGTH, LIMITS } from './limits';
import type { Measure } from './types';

export const DEFAULTS = {
  /**
   * The paper's model and training (Vendrov et al. 2016, Sect. 4.2; the order-embeddings code): the
   * Trainer's defaults for anything not given, and `compare`'s sizes.
   */
  paper: {
    model: {
      /** 300-d word vectors, as the paper (and the GloVe-sized pretrained vectors) use. */
      wordDim: 300,
      /** H = 1024: the paper's joint space; the GRU's hidden size is the embedding size. */
      hiddenDim: 1024,
      /** The LN-GRU: what this playground is about (off gives the paper's plain GRU). */
      layerNorm: true,
      /** Order embeddings (the paper); 'cosine' is the VSE baseline. */
      measure: 'order' as Measure,
    },
    train: {
      /** 128 pairs: the paper's batch; every other pair of the batch is a negative. */
      batchSize: 128,
      /** Adam at 1e-3, constant, as in the paper's code. */
      learningRate: 1e-3,
      /** Gradients clipped to a global norm of 2, as in the paper's code. */
      clipNorm: 2,
      /** Any fixed seed: runs are reproducible to the last digit. */
      seed: 1234,
      /** Words seen once are the unknown word: halves Flickr8k's vocabulary, loses little. */
      minWordCount: 2,
      /** Captions cut to 50 tokens (./limits.ts): longer than any Flickr8k caption. */
      maxLength: DEFAULT_MAX_LENGTH,
      /** One caption of each training image per epoch (short epochs, padding to the longest). */
      sampling: 'image' as 'image' | 'caption',
    },
  },
  /** The loss, in one block (the configs keep margin/maxViolation in ModelConfig for the file format). */
  loss: {
    /** Hinge margins: 0.05 for order-violation energies (the paper), 0.2 for cosine (VSE). */
    margin: { order: 0.05, cosine: 0.2 } as Record<Measure, number>,
    /** The paper's summed loss; max-violation from the start collapses the order embedding on Flickr8k. */
    maxViolation: false,
    /** Distillation (`train --distill-from`): as strong as the ranking loss ... */
    distillWeight: 1,
    /** ... towards rankings sharpened about as much as the order margin (0.05). */
    distillTemperature: 0.05,
  },
  /** The learning-rate schedule beyond the TRAIN_OPTIONS table. */
  schedule: {
    /** The step decay (`lrDecayStep`) divides by 10, as VSE++ does once the dev score plateaus. */
    lrDecayFactor: 0.1,
  },
  /**
   * `npm run train`: the paper's training, but H = 256 so a first run on a CPU takes seconds (pass
   * --hidden 1024 for the paper's); 300 steps, evaluated every 100, a progress line every 10.
   */
  quickCli: {
    hiddenDim: 256,
    steps: 300,
    evalEvery: 100,
    logEvery: 10,
    /** Images of the synthetic dataset: enough for a dev split of ~100 at the default split. */
    syntheticImages: 1200,
  },
  /** `npm run compare`: the paper's sizes for 10 epochs (evaluated every epoch), three variants. */
  compare: {
    epochs: 10,
    runs: ['ln-order', 'gru-order', 'gru-cosine'],
  },
  /**
   * The Train form (the playground): small enough that a step takes a fraction of a second on wasm in a
   * browser tab, so curves move while you watch (H 256, W 128, batch 64); seed 1; evaluated every 25
   * steps on 500 images (a second or two); no step limit (train until Pause).
   */
  playground: {
    wordDim: 128,
    hiddenDim: 256,
    batchSize: 64,
    seed: 1,
    evalEvery: 25,
    evalImages: 500,
    maxSteps: 0,
  },
} as const;

/** One numeric training option offered the same way by the Trainer, the Train form and both CLIs. */
export interface TrainOption {
  /** The value that changes nothing; a config holds the field only when it differs (0 here: "off"). */
  default: number;
  integer: boolean;
  min: number;
  max: number;
  /** `train` / `compare` flag (without `--`), its value name and help text (also docs/cli.md). */
  flag: string;
  value: string;
  help: string;
  /** The Train form's label, its hint under the field, and the input's step. */
  label: string;
  hint: string;
  step: string;
  /** How the run's one-line summary (Runs on the charts) says a set value: `lr warm-up over 100 steps`. */
  summary: (value: number) => string;
}

/**
 * The table of numeric training options (TrainConfig fields). Each entry is the whole definition of its
 * option for the form, the CLIs, validation of stored runs and checkpoints; what the option does lives
 * where it acts.
 */
export const TRAIN_OPTIONS = {
  /**
   * Linear learning-rate warm-up over the first N steps (./driver.ts learningRateAt): Adam's first
   * updates, from moment estimates of a handful of gradients, are the least reliable; a short warm-up
   * steadies them (common with larger batches and rates). 0: none, the paper's constant rate.
   */
  warmupSteps: {
    default: 0,
    integer: true,
    min: 0,
    max: LIMITS.steps,
    flag: 'warmup',
    value: 'N',
    help: 'learning-rate warm-up: the rate grows linearly from --lr/N to --lr over the first N steps (0: none)',
    label: 'Warm-up (steps)',
    hint: 'The learning rate grows linearly to its value over these first steps. 0: none.',
    step: '100',
    summary: (n: number) => `lr warm-up over ${n} steps`,
  },
} as const satisfies Record<string, TrainOption>;

export type TrainOptionKey = keyof typeof TRAIN_OPTIONS;

/** The table's entries, typed. */
export const trainOptionEntries = (): [TrainOptionKey, TrainOption][] =>
  Object.entries(TRAIN_OPTIONS) as [TrainOptionKey, TrainOption][];

/**
 * Why a table option's value is refused (null: accepted), in the words of the form and the CLIs: "a whole
 * number from 0 to 10000000".
 */
export function trainOptionProblem(o: TrainOption, v: number): string | null {
  const ok = Number.isFinite(v) && v >= o.min && v <= o.max && (!o.integer || Number.isInteger(v));
  return ok ? null : `${o.integer ? 'a whole number' : 'a number'} from ${o.min} to ${o.max}`;
}

/** `TRAIN_OPTIONS` values that differ from their defaults, as TrainConfig fields (absent ones left out). */
export function trainOptionFields(get: (key: TrainOptionKey, o: TrainOption) => number | undefined): {
  [K in TrainOptionKey]?: number;
} {
  const out: Record<string, number> = {};
  for (const [k, o] of trainOptionEntries()) {
    const v = get(k, o);
    if (v !== undefined && v !== o.default) out[k] = v;
  }
  return out as { [K in TrainOptionKey]?: number };
}
