/**
 * The worker's training session (part of ./service.ts): the runs of a Start (one, or two compared side by
 * side) or of a stored run resumed from its checkpoint. It trains step by step, taking turns between
 * runs, and yields to its event loop between chunks so that Pause / Reset / queries are handled
 * promptly: after every step that takes longer than a chunk, and between the chunks of an evaluation (a
 * Pause or Reset cuts an evaluation short; a paused run's cut evaluation is redone on Resume), and within
 * a long step too (Trainer.stepAsync turns the event loop about every 100 ms of its work): a Pause or
 * Reset that arrives during a step abandons it before its update, and Resume takes that very batch
 * again (the same losses as without the Pause). Checkpoints are stored every few seconds of training.
 */
import { Trainer } from '../model/trainer';
import { TrainingDriver } from '../model/driver';
import { yieldToEventLoop } from '../model/training/step-control';
import type { EvalMetrics } from '../model/types';
import { batchWarning } from '../model/data/flickr8k';
import { errorMessage, type EvalPoint, type StartOptions, type StoredRun } from './protocol';
import { withEvaluation } from './learning-curve';
import { resumableRun } from './resume-run';
import { Checkpointer, CHECKPOINT_SECONDS } from './checkpoints';
import { filesOf, liveRun, newStoredRun, takeProgress, type LiveRun } from './live-run';
import type { WorkerService } from './service';

/** How long a given-up session waits for its checkpoint in flight (a lost device's reads fail at once). */
const ABANDON_WAIT_MS = 2000;

/** A run of a session that ends: `state` if it was training or paused (a finished run stays 'done'). */
function markEnded(r: LiveRun, state: StoredRun['state']): void {
  if (r.stored.state === 'running' || r.stored.state === 'paused') r.stored.state = state;
}

/** Train for about this long before yielding to the event loop. */
const CHUNK_MS = 60;
/** Minimum interval between 'progress' events (at most ~10/s). */
const PROGRESS_INTERVAL_MS = 100;

interface Session {
  runs: LiveRun[];
  options: StartOptions;
  evalSplit: 'dev' | 'train';
  running: boolean;
  /** The training loop (steps, evaluation cadence, the step limit; src/model/driver.ts). */
  driver: TrainingDriver;
  /** The evaluation in progress, to cut it short on Pause or Reset. */
  evalAbort: AbortController | null;
  /** The training loop's step in flight, to abandon it (unapplied) on Pause or Reset. */
  stepAbort: AbortController | null;
  /** The training loop while it runs (a Resume waits for a paused loop to end its abandoned step). */
  loop: Promise<void> | null;
  /** An evaluation asked for while paused ('Evaluate now'); the training loop waits for it. */
  evaluation: Promise<unknown> | null;
  lastPost: number;
  /** Stores the runs' checkpoints every few seconds of training (./checkpoints.ts). */
  checkpointer: Checkpointer;
}

export class Training {
  private session: Session | null = null;

  constructor(private readonly svc: WorkerService) {}

  /** Whether runs are in the session (training, paused or done). */
  get active(): boolean {
    return Boolean(this.session);
  }

  /** The session's run `runId`, if it is one. */
  live(runId: string): LiveRun | undefined {
    return this.session?.runs.find((r) => r.stored.id === runId);
  }

  /** The ids of the session's runs. */
  liveIds(): Set<string> {
    return new Set(this.session?.runs.map((r) => r.stored.id) ?? []);
  }

  // -------------------------------------------------------------------------------------------
  // Start, stop

  async start(options: StartOptions): Promise<void> {
    const svc = this.svc;
    const gen = ++svc.generation;
    await this.stop('stopped');
    if (!(await svc.backend.ensure()) || gen !== svc.generation) return;
    if (!svc.loaded) {
      svc.fail('start', 'no dataset is loaded: load one on the Data tab first');
      return;
    }
    const { dataset } = svc.loaded;
    const encoder = svc.loaded.info.encoder ?? null;
    const runs: LiveRun[] = [];
    try {
      for (const spec of options.runs) {
        const trainer = new Trainer(dataset, spec.model, spec.train);
        runs.push(liveRun(spec, trainer, newStoredRun(spec, trainer, encoder)));
      }
    } catch (e) {
      runs.forEach((r) => r.trainer.dispose());
      svc.fail('start', e);
      return;
    }
    const s = this.launch(runs, options, false);
    const tooBig = batchWarning(dataset.splits.train?.length ?? 0, runs[0].trainer.config.train.batchSize);
    if (tooBig) svc.notice(`Training on ${dataset.name}: ${tooBig}.`);
    void this.trainLoop(s);
  }

  /** Continues a stored run from its checkpoint (./resume-run.ts): the same steps as if it never stopped. */
  resumeStored(runId: string): Promise<void> {
    return this.resumeStoredRuns([runId]);
  }

  /**
   * Continues stored runs from their checkpoints, together as one session (the runs of a comparison,
   * after a lost device): each takes the steps it would have taken from its checkpoint on. `paused`:
   * the session is made but not trained (runs that were paused when their device was lost), so that
   * Resume continues them as it would have.
   */
  async resumeStoredRuns(runIds: readonly string[], { paused = false } = {}): Promise<void> {
    const svc = this.svc;
    const gen = ++svc.generation;
    await this.stop('stopped');
    if (!runIds.length || !(await svc.backend.ensure()) || gen !== svc.generation) return;
    const runs: LiveRun[] = [];
    let options: StartOptions | undefined;
    try {
      for (const id of runIds) {
        const r = await resumableRun(svc.store, id, () => svc.loaded?.dataset);
        runs.push(r.run);
        options ??= r.options;
      }
    } catch (e) {
      runs.forEach((r) => r.trainer.dispose());
      throw e;
    }
    for (const id of runIds) svc.queries.forget(id);
    const s = this.launch(runs, { ...options!, runs: runs.map((r) => r.spec) }, true);
    if (paused) {
      await this.pause(); // stores nothing new: the runs are at their checkpoints
      svc.notice(
        runs.map((r) => `Run '${r.stored.label}' is back at step ${r.stored.step}, paused.`).join(' '),
      );
      return;
    }
    svc.notice(runs.map((r) => `Resumed run '${r.stored.label}' at step ${r.stored.step}.`).join(' '));
    void this.trainLoop(s);
  }

  /**
   * Gives the session up without reading anything from its backend: the device it trained on is lost
   * (WebGPU), so neither a last checkpoint nor the weights can be read, and a read could wait forever.
   * Each run is listed 'stopped' at its last stored checkpoint (its curve is kept; Resume, or the
   * caller, continues it from there). Returns what the session was doing and the ids of the runs to
   * continue (those with a checkpoint; none of a finished session); paused runs are continued paused.
   */
  async abandon(): Promise<{ runs: string[]; was: 'training' | 'paused' | 'done' | 'none' }> {
    const s = this.detach();
    if (!s) return { runs: [], was: 'none' };
    // detach() has stopped it; the runs' states say whether it was training, paused or finished.
    const states = s.runs.map((r) => r.stored.state);
    const was = states.includes('running') ? 'training' : states.includes('paused') ? 'paused' : 'done';
    // A checkpoint being read from the device fails (or never ends): wait for it a moment, so that
    // the records name the checkpoint that was stored, not the one that was being taken.
    await Promise.race([s.checkpointer.idle(), new Promise((ok) => setTimeout(ok, ABANDON_WAIT_MS))]);
    const resumable: string[] = [];
    for (const r of s.runs) {
      const done = r.stored.state === 'done';
      markEnded(r, 'stopped');
      await this.persist(r.stored);
      this.release(r);
      if (r.stored.checkpointStep !== undefined && !done) resumable.push(r.stored.id);
    }
    await this.svc.library.list();
    return { runs: resumable, was };
  }

  /** Makes `runs` the session (new, or `resumed` from checkpoints) and tells the UI; the caller trains. */
  private launch(runs: LiveRun[], options: StartOptions, resumed: boolean): Session {
    const svc = this.svc;
    const dataset = runs[0].trainer.dataset;
    const evalSplit = dataset.splits.dev?.length ? 'dev' : 'train';
    const checkpointer = new Checkpointer(
      svc.store,
      { ...options, encoder: svc.loaded?.info.encoder ?? null },
      (message) => svc.fail('runs', message),
      (options.checkpointSeconds ?? CHECKPOINT_SECONDS) * 1000,
    );
    const s: Session = {
      runs,
      options,
      evalSplit,
      running: true,
      // A new run is evaluated first (chance-level metrics before any training); a resumed one is not.
      driver: new TrainingDriver(
        runs.map((r) => r.trainer),
        { steps: options.maxSteps, evalEvery: options.evalEvery, evaluateFirst: !resumed, chunkMs: CHUNK_MS },
      ),
      evalAbort: null,
      stepAbort: null,
      loop: null,
      evaluation: null,
      lastPost: performance.now(),
      checkpointer,
    };
    this.session = s;
    svc.post({
      type: 'started',
      runs: runs.map((r) => ({
        id: r.stored.id,
        label: r.stored.label,
        model: r.trainer.config.model,
        train: r.trainer.config.train,
        ...(resumed ? { resumed: structuredClone(r.stored) } : {}),
      })),
      dataset: dataset.name,
      evalSplit,
    });
    for (const r of runs) void this.persist(r.stored);
    void svc.library.list();
    return s;
  }

  /** Stops the current session: saves each run's weights and state, disposes the trainers. */
  async stop(state: StoredRun['state']): Promise<void> {
    const s = this.detach();
    if (!s) return;
    // A last checkpoint (of the last good step, after a divergence), so that Resume continues from here.
    // Awaited: its copy of the record must not land after the final one below.
    await s.checkpointer.latest(s.runs);
    for (const r of s.runs) {
      markEnded(r, state);
      await this.saveRunFiles(r);
      this.release(r);
    }
    await this.svc.library.list();
  }

  /** Ends the current session (returned; null: none): nothing of it steps, evaluates or reports any more. */
  private detach(): Session | null {
    const s = this.session;
    if (!s) return null;
    this.session = null;
    s.running = false;
    s.evalAbort?.abort(); // before the trainers are disposed
    s.stepAbort?.abort(); // the step in flight is given up at its next turn, before its update
    this.flushProgress(s);
    return s;
  }

  /** A run of an ended session, once stored: out of the queries, its trainer freed. */
  private release(r: LiveRun): void {
    this.svc.queries.forget(r.stored.id);
    try {
      r.trainer.dispose();
    } catch {
      // Best effort (a lost device takes its tensors with it): the next run starts from fresh trainers.
    }
  }

  // -------------------------------------------------------------------------------------------
  // Pause, resume, reset, evaluate, checkpoint

  /**
   * Pauses the runs ('paused' at once); resolves once their checkpoints and records are stored. The
   * checkpoint is written turn by turn (./checkpoints.ts), so a Resume or Reset sent at once is read
   * while it is stored; Open and Export make a paused run's files from its checkpoint.
   */
  async pause(): Promise<void> {
    const s = this.session;
    if (!s?.running) return;
    s.running = false;
    s.evalAbort?.abort(); // a cut evaluation stays pending: it is redone on Resume
    s.stepAbort?.abort(); // the step in flight is given up, unapplied: Resume takes its batch again
    this.flushProgress(s);
    for (const r of s.runs) r.stored.state = 'paused';
    this.svc.post({ type: 'paused', step: s.runs[0].stored.step });
    await s.checkpointer.latest(s.runs);
    // The records as they are now (a checkpoint of this step may have been stored before the Pause).
    for (const r of s.runs) await this.persist(r.stored);
    await this.svc.library.list();
  }

  resume(): void {
    const s = this.session;
    // Runs at maxSteps are resumed only to finish an evaluation that a Pause cut short.
    if (s && !s.running && (!s.driver.finished || s.driver.evalPending)) {
      s.running = true;
      s.lastPost = performance.now();
      for (const r of s.runs) r.stored.state = 'running';
      this.svc.post({ type: 'resumed', step: s.runs[0].stored.step });
      void this.trainLoop(s);
    }
  }

  /** Stops and disposes the runs (they stay stored), then posts 'reset'. */
  async reset(): Promise<void> {
    this.svc.generation++;
    await this.stop('stopped');
    this.svc.post({ type: 'reset' });
  }

  /** 'Evaluate now': at the loop's next chunk while training; at once while paused or done. */
  evaluate(): void {
    const s = this.session;
    if (!s) return;
    if (s.running) {
      s.driver.requestEvaluation();
      return;
    }
    if (s.evaluation) return;
    s.evaluation = this.evaluateAll(s).finally(() => {
      s.evaluation = null;
    });
  }

  /** Stores a checkpoint of the runs now (failures are reported by the checkpointer). */
  async checkpointNow(): Promise<void> {
    const s = this.session;
    if (s?.runs.length) await s.checkpointer.latest(s.runs);
  }

  // -------------------------------------------------------------------------------------------
  // Storing

  private persist(run: StoredRun): Promise<void> {
    return this.svc.store
      .put(structuredClone(run))
      .catch((e: unknown) => this.svc.notice(`Could not save run ${run.label}: ${errorMessage(e)}`));
  }

  /** Stores a run's record with its weights (one transaction); a failure is reported, saying what was lost. */
  private async saveRunFiles(r: LiveRun): Promise<void> {
    try {
      await this.svc.store.save(structuredClone(r.stored), await filesOf(r));
    } catch (e) {
      this.svc.fail('runs', `${errorMessage(e)} (step ${r.stored.step}; the previously stored copy is kept)`);
    }
  }

  private flushProgress(s: Session): void {
    if (s.runs.every((r) => r.pending.length === 0)) return;
    this.svc.post({ type: 'progress', runs: s.runs.map(takeProgress) });
    s.lastPost = performance.now();
  }

  // -------------------------------------------------------------------------------------------
  // The training loop

  /**
   * Evaluates every run of the session, in chunks with a turn of the event loop between them, so that
   * a Pause or Reset is read within a chunk and cuts it short ('cancelled': no metrics for the runs not
   * yet done; the caller evaluates again later). 'failed': an error was posted and the session stopped.
   */
  private async evaluateAll(s: Session): Promise<'done' | 'cancelled' | 'failed'> {
    this.flushProgress(s); // the evaluated step's entry is in the curve before its metrics are set on it
    const abort = new AbortController();
    s.evalAbort?.abort();
    s.evalAbort = abort;
    try {
      for (const r of s.runs) {
        const t0 = performance.now();
        const metrics: EvalMetrics = await r.trainer.evaluateAsync(
          s.evalSplit,
          s.options.evalImages > 0 ? { maxImages: s.options.evalImages } : {},
          { between: yieldToEventLoop, signal: abort.signal },
        );
        const point: EvalPoint = { step: r.stored.step, seconds: r.stored.seconds, dev: metrics };
        r.stored.history = withEvaluation(r.stored.history, point, r.stored.epoch);
        this.svc.post({
          type: 'metrics',
          runId: r.stored.id,
          split: s.evalSplit,
          point,
          ms: performance.now() - t0,
        });
        void this.persist(r.stored);
      }
      return 'done';
    } catch (e) {
      if (abort.signal.aborted) return 'cancelled';
      this.svc.fail('eval', e);
      void this.stop('stopped');
      return 'failed';
    } finally {
      if (s.evalAbort === abort) s.evalAbort = null;
    }
  }

  /**
   * Trains the session with the shared loop (src/model/driver.ts) until it finishes, is paused or reset,
   * or fails: steps in chunks of about CHUNK_MS, progress and checkpoints between chunks, then a turn of
   * the event loop (so that Pause and queries are read); evaluations in chunks too.
   */
  private async trainLoop(s: Session): Promise<void> {
    // A Resume read before the paused loop has given up its step waits for that loop to end.
    while (s.loop) await s.loop.catch(() => undefined);
    if (this.session !== s || !s.running) return;
    const abort = new AbortController();
    s.stepAbort = abort;
    s.loop = this.trainSteps(s, abort.signal).finally(() => {
      s.loop = null;
      if (s.stepAbort === abort) s.stepAbort = null;
    });
    return s.loop;
  }

  /** The body of {@link trainLoop}: steps by Trainer.stepAsync, given up when `signal` aborts. */
  private async trainSteps(s: Session, signal: AbortSignal): Promise<void> {
    const outcome = await s.driver.run({
      stepControl: () => ({ between: yieldToEventLoop, signal }),
      keepGoing: async () => {
        // An 'Evaluate now' of the paused runs: the weights stay until it ends.
        while (s.evaluation) await s.evaluation;
        return this.session === s && s.running;
      },
      onStep: (k, result) => {
        const r = s.runs[k];
        r.windowMs += result.ms;
        r.windowSteps += 1;
        r.stored.step = result.step;
        r.stored.epoch = result.epoch;
        r.stored.seconds += result.ms / 1000;
        r.loss = result.loss;
        r.pending.push({
          step: result.step,
          epoch: result.epoch,
          seconds: r.stored.seconds,
          loss: result.loss,
        });
      },
      onStepError: (k, e) => {
        if (this.session !== s) return; // a session given up (lost device): its reads fail, unreported
        this.flushProgress(s);
        this.svc.fail('train', `${s.runs[k].stored.label}: ${errorMessage(e)}`);
      },
      // Cut short by Pause or Reset: evaluated again on Resume. A failure has stopped the session.
      evaluate: async () => (await this.evaluateAll(s)) === 'done',
      afterChunk: async () => {
        if (this.session !== s) return; // given up meanwhile: nothing of it is stored any more
        if (performance.now() - s.lastPost >= PROGRESS_INTERVAL_MS) this.flushProgress(s);
        if (s.checkpointer.due()) void s.checkpointer.take(s.runs);
        await yieldToEventLoop();
      },
    });
    if (outcome === 'failed' && this.session === s) await this.stop('stopped');
    if (outcome !== 'finished') return;
    s.running = false;
    for (const r of s.runs) {
      r.stored.state = 'done';
      await this.saveRunFiles(r);
    }
    this.svc.post({ type: 'done', step: s.runs[0].stored.step });
    await this.svc.library.list();
  }
}
