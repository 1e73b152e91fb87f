/**
 * The worker's tfjs backend (part of ./service.ts): picks it ('auto': a hardware WebGPU adapter, else
 * wasm, else webgl, else cpu; ./backend-choice.ts), falls back along that order when one fails to start,
 * and falls back to wasm when a WebGPU device is lost (the runs are stopped, their history stays stored).
 */
import * as tf from '../model/tf';
import { initBackend, wasmThreadingInfo } from '../model/backend';
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

  constructor(private readonly svc: WorkerService) {}

  /** The page's 'init': this backend (and these threads) from now on. */
  init(choice: BackendChoice, wasmPath: string, threads: number | undefined): Promise<boolean> {
    this.threads = threads;
    this.ready = this.setUp(choice, wasmPath);
    return this.ready;
  }

  /** Resolves once a backend is ready (the automatic choice if the page sent no 'init'); false: none. */
  ensure(): Promise<boolean> {
    this.ready ??= this.setUp('auto', '');
    return this.ready;
  }

  private async setUp(choice: BackendChoice, wasmPath: string): Promise<boolean> {
    const svc = this.svc;
    const probe = await probeWebGpu();
    const plan = planBackends(choice, probe);
    const failures: string[] = [];
    for (const b of plan.order) {
      try {
        const opts = { ...(wasmPath ? { wasmPath } : {}), threads: this.threads };
        const name = (await initBackend(b, opts)) as BackendName;
        this.name = name;
        const reason = failures.length
          ? `${plan.reason}; ${failures.join('; ')}; using ${name}`
          : plan.reason;
        const t = wasmThreadingInfo();
        const threading = t ? { threads: t.threads, ...(t.why ? { threadsWhy: t.why } : {}) } : {};
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

  /** A lost WebGPU device: fall back to wasm, say so, and stop the runs (their history stays stored). */
  private watchDeviceLoss(wasmPath: string): void {
    const svc = this.svc;
    const device = (tf.backend() as unknown as { device?: { lost?: Promise<{ message?: string }> } }).device;
    void device?.lost?.then(async (info) => {
      if (this.name !== 'webgpu') return;
      const hadRuns = svc.training.active;
      svc.notice(
        `The WebGPU device was lost (${info?.message || 'no reason given'}); falling back to wasm.` +
          (hadRuns ? ' The runs were stopped; their curves and last saved weights are kept.' : ''),
      );
      await svc.training.stop('stopped');
      if (hadRuns) svc.post({ type: 'reset' });
      svc.queries.forgetAll();
      forgetEncoders();
      forgetStarter();
      this.ready = this.setUp('wasm', wasmPath);
    });
  }
}
