/**
 * Training checkpoints in the browser: while a run trains, the worker stores its checkpoint (weights,
 * Adam state, sampler position; src/model/checkpoint.ts) with its record in IndexedDB every few seconds
 * of training and when the page is hidden or closed (the UI sends 'checkpointNow' on pagehide and
 * visibilitychange). A run cut off by a reload, a crash or an out-of-memory is listed 'stopped' at its
 * last checkpoint: Open and Export use the checkpoint's weights when they are newer than the stored
 * files, and Resume continues it (to the last digit, as the unit tests check for the trainer).
 *
 * Taking a checkpoint costs nothing between two steps: its tensors are held on the backend
 * (Trainer.holdCheckpoint) and read while training goes on, with a turn of the event loop every 50 ms of
 * reading, each into a Blob, so that the IndexedDB put serializes handles, not the data (a whole model's
 * copy blocked the worker for 8 to 11 s at the largest size). A new checkpoint is not started while one is in flight.
 */
import { CaptionCodec, CODEC_FILE } from '../model/caption-codec';
import type { TrainerCheckpoint } from '../model/checkpoint';
import { validateCheckpoint } from '../model/checkpoint';
import { LIMITS } from '../model/limits';
import { RUN_FORMAT, serializeWeights, type RunConfig } from '../model/export';
import type { NamedWeight } from '../model/model';
import type { Trainer } from '../model/trainer';
import { readCheckpointTensors, releaseCheckpoint } from '../model/training/state';
import { yieldToEventLoop } from '../model/training/step-control';
import type { VocabularyJSON } from '../model/tokenizer';
import { field } from '../model/validate-run';
import { lastEvaluation } from './learning-curve';
import { errorMessage, type StartOptions, type StoredRun } from './protocol';
import type { RunFilesRecord, RunStore } from './run-store';

/** Default seconds between checkpoints of a training run. */
export const CHECKPOINT_SECONDS = 5;

/** A run's checkpoint as stored in IndexedDB, with what the worker needs to reopen and resume it. */
export interface StoredCheckpoint {
  runId: string;
  checkpoint: TrainerCheckpoint;
  vocab: VocabularyJSON;
  encoder: string | null;
  /** The session options it trained with (a resumed run keeps them). */
  options: Pick<StartOptions, 'evalEvery' | 'maxSteps' | 'evalImages'>;
  /** Seconds of training at the checkpoint. */
  seconds: number;
  savedAt: string;
}

/** A stored checkpoint read back, validated field by field (tensors against their shapes). */
export function validateStoredCheckpoint(v: unknown): StoredCheckpoint {
  const { rec, str, int, arr } = field;
  const c = rec('checkpoint record', v);
  const checkpoint = validateCheckpoint(c.checkpoint, undefined, 'checkpoint record');
  const vocab = rec('checkpoint record: vocab', c.vocab);
  const tokens = arr('checkpoint record: vocab.tokens', vocab.tokens, checkpoint.vocabSize).map((t, i) =>
    str(`checkpoint record: vocab.tokens[${i}]`, t, 200),
  );
  if (tokens.length !== checkpoint.vocabSize)
    throw new Error(
      `checkpoint record: the vocabulary has ${tokens.length} words, the checkpoint ${checkpoint.vocabSize}`,
    );
  const o = rec('checkpoint record: options', c.options);
  return {
    runId: str('checkpoint record: runId', c.runId, 200),
    checkpoint,
    vocab: { format: 'orderembed-vocab', version: 1, tokens },
    encoder:
      c.encoder === null || c.encoder === undefined
        ? null
        : str('checkpoint record: encoder', c.encoder, 4096),
    options: {
      evalEvery: int('checkpoint record: options.evalEvery', o.evalEvery, 1),
      maxSteps: int('checkpoint record: options.maxSteps', o.maxSteps, 0),
      evalImages: int('checkpoint record: options.evalImages', o.evalImages, 0),
    },
    seconds: field.num('checkpoint record: seconds', c.seconds, 0),
    savedAt: str('checkpoint record: savedAt', c.savedAt, 100),
  };
}

/**
 * A stored checkpoint read back and validated: tensors stored as Blobs (as the Checkpointer writes them)
 * are read into arrays once their byte size is checked against their shape; records stored before Blobs
 * hold the arrays inline.
 */
export async function loadStoredCheckpoint(v: unknown): Promise<StoredCheckpoint> {
  const c = field.rec('checkpoint record', v);
  const cp = field.rec('checkpoint record: checkpoint', c.checkpoint);
  if (!Array.isArray(cp.tensors)) return validateStoredCheckpoint(v);
  const tensors: unknown[] = [];
  for (const [i, t] of (cp.tensors as unknown[]).entries()) {
    const e = t as { name?: unknown; shape?: unknown; data?: unknown } | null;
    if (!(e?.data instanceof Blob)) {
      tensors.push(t);
      continue;
    }
    const at = `checkpoint record: tensors[${i}] '${String(e.name)}'`;
    const shape = Array.isArray(e.shape) ? (e.shape as unknown[]) : [];
    const bytes =
      4 *
      shape.reduce<number>((n, d) => n * (Number.isInteger(d) && (d as number) > 0 ? (d as number) : NaN), 1);
    if (!(bytes <= LIMITS.uploadBytes) || e.data.size !== bytes)
      throw new Error(`${at}: ${e.data.size} bytes stored for shape [${shape.join(', ')}]`);
    tensors.push({ ...e, data: new Float32Array(await e.data.arrayBuffer()) });
  }
  return validateStoredCheckpoint({ ...c, checkpoint: { ...cp, tensors } });
}

/**
 * The files Open and Export use for a stored run: its stored files, or files made from its checkpoint
 * when that is newer (a run cut off by a reload or crash); undefined when it has neither.
 */
export async function currentRunFiles(store: RunStore, run: StoredRun): Promise<RunFilesRecord | undefined> {
  const files = await store.getFiles(run.id);
  if (run.checkpointStep === undefined) return files;
  if (files) {
    let steps = -1;
    try {
      steps = (JSON.parse(files['config.json'] as string) as { steps?: number }).steps ?? -1;
    } catch {
      // Unreadable: the checkpoint is the better copy.
    }
    if (steps >= run.checkpointStep) return files;
  }
  const raw = await store.getCheckpoint(run.id);
  return raw === undefined ? files : filesFromCheckpoint(await loadStoredCheckpoint(raw), run);
}

/**
 * A run's files (config.json, weights.json, weights.bin, metrics.json, codec.json) from its checkpoint,
 * so that a run cut off before it paused can be opened and exported.
 */
export function filesFromCheckpoint(sc: StoredCheckpoint, run: StoredRun): RunFilesRecord {
  const cp = sc.checkpoint;
  const byName = new Map(cp.tensors.map((t) => [t.name, t]));
  const weights: NamedWeight[] = [];
  for (const [name, t] of byName) {
    if (!name.startsWith('weight.')) continue;
    const w = name.slice('weight.'.length);
    // The trainer's image.weight variable is [F, H]; run files hold torch's [H, F].
    weights.push(w === 'image.weight' ? transpose(w, t) : { name: w, shape: [...t.shape], data: t.data });
  }
  const config: RunConfig = {
    format: RUN_FORMAT,
    version: 1,
    model: cp.model,
    train: cp.train,
    encoder: sc.encoder,
    dataset: cp.dataset,
    vocab: sc.vocab,
    steps: cp.steps,
    epochs: cp.epochs,
    createdAt: run.createdAt,
  };
  const { manifest, bytes } = serializeWeights(weights);
  const history = run.history.filter((h) => h.step <= cp.steps);
  const final = lastEvaluation(history);
  return {
    'config.json': JSON.stringify(config, null, 2) + '\n',
    'weights.json': JSON.stringify(manifest) + '\n',
    'weights.bin': bytes,
    'metrics.json': JSON.stringify({ history, ...(final ? { final: { dev: final } } : {}) }) + '\n',
    [CODEC_FILE]: CaptionCodec.fromRunConfig(config).toFileText(),
  };
}

function transpose(name: string, t: NamedWeight): NamedWeight {
  const [rows, cols] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = t.data[i * cols + j];
  return { name, shape: [cols, rows], data: out };
}

/** The live run a checkpoint is taken of. */
export interface CheckpointSource {
  stored: StoredRun;
  trainer: Trainer;
}

/** A tensor's values as a Blob (a view of a shared heap is copied first: Blob takes no shared memory). */
const toBlob = (data: Float32Array): Blob =>
  new Blob([
    data.buffer instanceof ArrayBuffer ? (data as Float32Array<ArrayBuffer>) : new Float32Array(data),
  ]);

/** Takes and stores checkpoints of a session's runs, one write at a time. */
export class Checkpointer {
  private last = performance.now();
  private writing: Promise<void> | null = null;

  constructor(
    private readonly store: RunStore,
    private readonly options: StoredCheckpoint['options'] & { encoder: string | null },
    private readonly onError: (message: string) => void,
    private readonly intervalMs = CHECKPOINT_SECONDS * 1000,
    /** Longest stretch of reading a checkpoint's tensors before a turn of the event loop. */
    private readonly sliceMs = 50,
  ) {}

  /** Settles when no write is in flight (a failed one has put the run's checkpointStep back). */
  idle(): Promise<void> {
    return this.writing ?? Promise.resolve();
  }

  /** Whether the interval has passed and no write is in flight. */
  due(): boolean {
    return !this.writing && performance.now() - this.last >= this.intervalMs;
  }

  /** Waits for a write in flight, then checkpoints the runs' latest steps (stop, pause, page hidden). */
  async latest(runs: readonly CheckpointSource[]): Promise<void> {
    if (this.writing) await this.writing;
    await this.take(runs);
  }

  /**
   * Takes each run's checkpoint now (held, no copy: between steps) with a copy of its record, then
   * stores them while training goes on: the tensors are read with a turn every `sliceMs`, each into a Blob, and each
   * run's checkpoint and record are written in one transaction; resolves when committed. A failure is
   * reported and the previous checkpoint kept.
   */
  take(runs: readonly CheckpointSource[]): Promise<void> {
    if (this.writing) return this.writing;
    this.last = performance.now();
    const snapshots = runs
      .filter((r) => r.trainer.stepsDone > (r.stored.checkpointStep ?? -1))
      .map((r) => {
        const previous = r.stored.checkpointStep;
        const held = r.trainer.holdCheckpoint();
        r.stored.checkpointStep = held.state.steps;
        const sc = {
          runId: r.stored.id,
          vocab: r.trainer.vocab.toJSON(),
          encoder: this.options.encoder,
          options: {
            evalEvery: this.options.evalEvery,
            maxSteps: this.options.maxSteps,
            evalImages: this.options.evalImages,
          },
          seconds: r.stored.seconds,
          savedAt: new Date().toISOString(),
        };
        return { live: r.stored, previous, record: structuredClone(r.stored), held, sc };
      });
    const write = (async () => {
      for (const { live, previous, record, held, sc } of snapshots) {
        const steps = held.state.steps;
        try {
          const read = await readCheckpointTensors(held, toBlob, yieldToEventLoop, this.sliceMs);
          // A Blob of the parts' Blobs: no copy.
          const tensors = read.map(({ name, shape, parts }) => ({ name, shape, data: new Blob(parts) }));
          await this.store.saveWithCheckpoint(record, { ...sc, checkpoint: { ...held.state, tensors } });
        } catch (e) {
          releaseCheckpoint(held);
          // The stored record still names the previous checkpoint.
          if (live.checkpointStep === steps) live.checkpointStep = previous;
          this.onError(
            `the checkpoint of run '${record.label}' at step ${steps} ${errorMessage(e).replace(/^.* was not saved: /, 'was not saved: ')}`,
          );
        }
      }
    })().finally(() => {
      this.writing = null;
    });
    this.writing = write;
    return write;
  }
}
