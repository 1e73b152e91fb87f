/**
 * The worker's tfjs backend (part of ./service.ts): picks it ('auto': a hardware WebGPU adapter, else
 * wasm, else webgl, else cpu; ./backend-choice.ts), falls back along that order when one fails to start,
 * and falls back to wasm when a WebGPU device is lost (the runs go on there from their last checkpoint).
 */
import * as tf from '../model/tf';
import { initBackend, wasmThreadingInfo, type MatMulChoice } from '../model/backend';
import { hostMatMulBuild, matMulStage } from '../model/kernels/matmul-host';
import { startMatMulThreads, stopMatMulThreads } from './matmul-threads';
import { planBackends, probeWebGpu } from './backend-choice';
import { forgetEncoders } from './image-encoders';
import { ensureStarter, forgetStarter } from './photos';
import { errorMessage, type BackendChoice, type BackendName } from './protocol';
import type { WorkerService } from './service';

export class Backend {
  /** The backend in use (null: none yet). */
  name: BackendName | null = null;
  private ready: Promise<boolean> | null = null;
  /** The wasm thread count the page asked for ('init'); undefined: one per core. */
  private threads: number | undefined;
  /** The single-threaded wasm build's matMul kernel the page asked for; undefined: ours. */
  private matMul: MatMulChoice | undefined;

  constructor(private readonly svc: WorkerService) {}

  /** The page's 'init': this backend (and these threads) from now on. */
  init(
    choice: BackendChoice,
    wasmPath: string,
    threads: number | undefined,
    matMul?: MatMulChoice,
  ): Promise<boolean> {
    this.threads = threads;
    this.matMul = matMul;
    this.ready = this.setUp(choice, wasmPath);
    return this.ready;
  }

  /** Resolves once a backend is ready (the automatic choice if the page sent no 'init'); false: none. */
  ensure(): Promise<boolean> {
    this.ready ??= this.setUp('auto', '');
    return this.ready;
  }

  /** Starts the first backend of `choice`'s plan that works; `why`: the reason shown, when not the plan's. */
  private async setUp(choice: BackendChoice, wasmPath: string, why?: string): Promise<boolean> {
    const svc = this.svc;
    const probe = await probeWebGpu();
    const plan = planBackends(choice, probe);
    if (why) plan.reason = why;
    const failures: string[] = [];
    for (const b of plan.order) {
      try {
        const opts = { ...(wasmPath ? { wasmPath } : {}), threads: this.threads, matMul: this.matMul };
        stopMatMulThreads();
        const name = (await initBackend(b, opts)) as BackendName;
        this.name = name;
        await this.shareMatMul();
        const reason = failures.length
          ? `${plan.reason}; ${failures.join('; ')}; using ${name}`
          : plan.reason;
        const t = wasmThreadingInfo();
        const threading = t
          ? {
              threads: t.threads,
              ...(t.why ? { threadsWhy: t.why } : {}),
              ...(t.matMul ? { matMul: t.matMul } : {}),
            }
          : {};
        svc.post({ type: 'ready', backend: name, reason, ...threading });
        void ensureStarter(svc.queries.photosContext); // the shipped starter model, open from the first minute
        if (name === 'webgpu') this.watchDeviceLoss(wasmPath);
        return true;
      } catch (e) {
        failures.push(`${b} failed (${errorMessage(e)})`);
      }
    }
    svc.fail('init', `no tfjs backend could be initialised: ${failures.join('; ')}`);
    return false;
  }

  /**
   * With threads and our matMul kernel (on tfjs's single-threaded build, ../model/backend.ts): its
   * helper threads (one fewer than the threads wanted) on a stage of their own. Where they do not
   * start, the products run on this worker alone and the header says one thread and why; if they stop
   * answering later, the same, with a notice.
   */
  private async shareMatMul(): Promise<void> {
    const t = wasmThreadingInfo();
    const build = hostMatMulBuild();
    if (!t || t.threads < 2 || !build) return;
    try {
      const stage = matMulStage(build);
      if (!stage) throw new Error('the kernel does not instantiate on a shared memory');
      await startMatMulThreads(stage, t.threads, (why) =>
        this.svc.notice(`${why}; the matrix products run on one thread from now on`),
      );
    } catch (e) {
      t.threads = 1;
      t.why = `its matMul helper threads did not start (${errorMessage(e)})`;
    }
  }

  /**
   * A lost WebGPU device: fall back to wasm, say so, and go on training there. Nothing can be read from
   * the lost device, so the runs are given up where they stand (no last checkpoint of it, no weights)
   * and continue on wasm from their last stored checkpoint, a few seconds of training back at most
   * (one every CHECKPOINT_SECONDS); runs without one yet are listed 'stopped' with their curves. Paused
   * runs come back paused at the checkpoint their Pause stored; finished runs stay as they were stored.
   */
  private watchDeviceLoss(wasmPath: string): void {
    const svc = this.svc;
    const device = (tf.backend() as unknown as { device?: { lost?: Promise<{ message?: string }> } }).device;
    void device?.lost?.then(async (info) => {
      if (this.name !== 'webgpu') return;
      const { runs: resumable, was } = await svc.training.abandon();
      const paused = was === 'paused';
      const lostRuns = (was === 'training' || paused) && resumable.length === 0;
      svc.notice(
        `The WebGPU device was lost (${info?.message || 'no reason given'}); falling back to wasm.` +
          (resumable.length
            ? paused
              ? ' The paused runs are back there at their last checkpoint, still paused.'
              : ' The runs go on there from their last checkpoint.'
            : lostRuns
              ? ' The runs were stopped before their first checkpoint; their curves are kept.'
              : ''),
      );
      if (was !== 'none') svc.post({ type: 'reset' });
      svc.queries.forgetAll();
      forgetEncoders();
      forgetStarter();
      this.ready = this.setUp('wasm', wasmPath, 'the WebGPU device was lost');
      if (!resumable.length || !(await this.ready)) return;
      try {
        await svc.training.resumeStoredRuns(resumable, { paused });
      } catch (e) {
        svc.fail('train', `after the lost device, the runs could not continue on wasm: ${errorMessage(e)}`);
      }
    });
  }
}
