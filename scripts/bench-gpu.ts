/**
 * npm run bench:gpu [-- options]   (BENCH_GPU in ./cli/commands.ts; `--help`, docs/cli.md)
 *
 * The GPU figures in one command, in Node with no browser: tfjs's WebGPU backend on the `webgpu`
 * package's Dawn adapter (./lib/node-webgpu.ts). It prints the adapter, then
 * - a full training step (Trainer.stepOnDevice: LN-GRU, scoring, loss, gradients, clipping and Adam on
 *   the device, the loss read one step behind) at hidden 1024, batch 128, word 300, 12 words per
 *   caption: pairs/s with our WGSL kernels and with the composite tfjs ops;
 * - the LN-GRU forward + backward over the 12 steps (kernels vs composite) and the plain GRU's;
 * - order-violation scoring of 1000 x 5000 embeddings of 1024 (the kernel), with the memory bandwidth it
 *   reaches (the bytes it must move: both inputs and the energies, over its time) as a fraction of the
 *   GPU's peak (--peak-gbps, else a small table by adapter name, else "unknown").
 * Every measurement stops after a fixed number of repeats or seconds, whichever comes first, so the run
 * ends within 5 minutes on a GPU (a watchdog stops it at 5). `--quick` uses small sizes, for a software
 * adapter (its figures are no GPU figures).
 *
 * Without an adapter it says what is missing (the webgpu package, its dawn.node, the Vulkan loader, a
 * Vulkan driver) and exits 1. The last line is `name=value` figures.
 */
import { parseCommand } from './cli/options';
import { BENCH_GPU } from './cli/commands';
import { initNodeWebGPU, NodeWebGPUMissing, peakBandwidth } from './lib/node-webgpu';
import * as tf from '../src/model/tf';
import { Trainer } from '../src/model/trainer';
import { GruLayer, LayerNormGRU } from '../src/model/gru';
import { orderViolation } from '../src/model/scoring';
import { kernelState, setKernelsEnabled } from '../src/model/kernels/webgpu';
import { Rng } from '../src/model/rng';
import type { Dataset } from '../src/model/types';

const { values: args } = parseCommand(BENCH_GPU);
const quick = Boolean(args.quick);
const LIMIT_S = 300;
const started = performance.now();
const watchdog = setTimeout(() => {
  console.error(`bench:gpu: still running after ${LIMIT_S} s; stopped (the figures so far are above)`);
  process.exit(2);
}, LIMIT_S * 1000);
watchdog.unref();

/** Sizes: the issue's, and small ones for a software adapter. `seconds`: the most any one figure takes. */
const S = quick
  ? { B: 16, H: 64, W: 32, T: 8, V: 200, F: 64, N: 64, M: 256, D: 64, steps: 6, reps: 5, seconds: 20 }
  : {
      B: 128,
      H: 1024,
      W: 300,
      T: 12,
      V: 2000,
      F: 1024,
      N: 1000,
      M: 5000,
      D: 1024,
      steps: 20,
      reps: 10,
      seconds: 25,
    };

let info;
try {
  info = await initNodeWebGPU({ adapter: args.adapter, backend: args.backend });
} catch (e) {
  if (!(e instanceof NodeWebGPUMissing)) throw e;
  console.error(`bench:gpu: ${e.message}`);
  process.exit(1);
}
const peak = args['peak-gbps']
  ? { gbps: args['peak-gbps'], name: '--peak-gbps' }
  : peakBandwidth(info.description || info.adapter);
console.log(`adapter: ${info.adapter}`);
console.log(
  `limits: maxStorageBufferBindingSize ${(info.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB, ` +
    `maxBufferSize ${(info.limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB; peak bandwidth: ` +
    (peak ? `${peak.gbps} GB/s (${peak.name})` : 'unknown (give --peak-gbps)'),
);
console.log(`sizes: ${JSON.stringify(S)}${quick ? ' (--quick: not GPU figures on a software adapter)' : ''}`);

/**
 * Runs `once` up to `max` times or `seconds`, after `warm` untimed runs (shader compilation), and
 * returns the mean ms per run. `once` must leave its work queued; `sync` waits for the queue (one small
 * read: the queue runs in order).
 */
async function timeIt(
  once: () => Promise<void> | void,
  sync: () => Promise<void>,
  max: number,
  warm = 1,
  syncEvery = 4,
): Promise<{ ms: number; n: number }> {
  for (let i = 0; i < warm; i++) await once();
  await sync();
  const t0 = performance.now();
  let n = 0;
  while (n < max && (n === 0 || performance.now() - t0 < S.seconds * 1000)) {
    await once();
    n++;
    if (n % syncEvery === 0) await sync(); // keep the host from running far ahead of the device
  }
  await sync();
  return { ms: (performance.now() - t0) / n, n };
}

/** One small read that waits for everything queued before it. */
async function readOne(t: tf.Tensor): Promise<number> {
  const s = tf.tidy(() => t.reshape([-1]).slice([0], [1]));
  const v = (await s.data())[0];
  s.dispose();
  return v;
}

/** Random captions of T words over V words, 5 per image, and random features: the step's shapes. */
function benchDataset(): Dataset {
  const n = Math.max(4 * S.B, 64);
  const rng = new Rng(11);
  const features = Float32Array.from({ length: n * S.F }, () => rng.normal());
  const captions: Dataset['captions'] = [];
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 5; c++)
      captions.push({ image: i, text: Array.from({ length: S.T }, () => `w${rng.int(S.V)}`).join(' ') });
  const all = Array.from({ length: n }, (_, i) => i);
  return { name: 'bench-gpu', imageDim: S.F, features, numImages: n, captions, splits: { train: all } };
}

const figures: Record<string, string | number> = { adapter: JSON.stringify(info.adapter) };
const fmt = (x: number, d = 1) => Number(x.toFixed(d));

// ---- a full training step ----
const ds = benchDataset();
const pairsPerS: Record<string, number> = {};
for (const kernels of [true, false]) {
  const tag = kernels ? 'kernel' : 'composite';
  setKernelsEnabled(kernels);
  const tr = new Trainer(ds, { wordDim: S.W, hiddenDim: S.H, layerNorm: true }, { batchSize: S.B, seed: 1 });
  let last: number | undefined;
  const { ms, n } = await timeIt(
    async () => {
      const r = await tr.stepOnDevice();
      if (r) last = r.loss;
    },
    async () => {
      const r = await tr.flushDeviceStep();
      if (r) last = r.loss;
    },
    S.steps,
    2,
    Infinity, // stepOnDevice waits for the step before it: the host stays one step ahead
  );
  tr.dispose();
  pairsPerS[tag] = (S.B * 1000) / ms;
  console.log(
    `train step  ${tag.padEnd(9)} H ${S.H} B ${S.B} T ${S.T}: ${ms.toFixed(1)} ms/step, ` +
      `${pairsPerS[tag].toFixed(0)} pairs/s (${n} steps; last loss ${last?.toFixed(4)})`,
  );
  figures[`train_pairs_per_s_${tag}`] = fmt(pairsPerS[tag]);
}
setKernelsEnabled(true);
figures.train_step_speedup = fmt(pairsPerS.kernel / pairsPerS.composite, 2);

// ---- the LN-GRU (and GRU) forward + backward over T steps ----
const gruMs: Record<string, number> = {};
for (const [tag, layerNorm, path] of [
  ['lngru_kernel', true, 'webgpu-kernel'],
  ['lngru_composite', true, 'composite'],
  ['gru', false, 'composite'],
] as const) {
  const layer = layerNorm ? new LayerNormGRU(S.W, S.H) : new GruLayer(S.W, S.H, false);
  const x = tf.randomNormal([S.T, S.B, S.W], 0, 1, 'float32', 1) as tf.Tensor3D;
  const dhN = tf.randomNormal([S.B, S.H], 0, 1, 'float32', 2) as tf.Tensor2D;
  const lengths = Array.from({ length: S.B }, (_, b) => S.T - (b % 4));
  let keep: tf.Tensor | null = null;
  const { ms, n } = await timeIt(
    () => {
      const fwd = layer.forward(x, lengths, { cache: true, path });
      const g = layer.backward(fwd.cache!, null, dhN);
      GruLayer.disposeCache(fwd.cache!);
      keep?.dispose();
      keep = g.x;
      tf.dispose([fwd.hN, ...Object.values(g.params)] as tf.Tensor[]);
    },
    async () => {
      if (keep) await readOne(keep);
    },
    S.reps,
  );
  (keep as tf.Tensor | null)?.dispose();
  tf.dispose([x, dhN]);
  layer.dispose();
  gruMs[tag] = ms;
  console.log(
    `${tag.padEnd(16)} T ${S.T} B ${S.B} D ${S.W} H ${S.H}: ${ms.toFixed(1)} ms forward + backward (${n} runs)`,
  );
}
figures.lngru_step_speedup = fmt(gruMs.lngru_composite / gruMs.lngru_kernel, 2);
figures.lngru_vs_gru_webgpu = fmt(gruMs.lngru_kernel / gruMs.gru, 2);

// ---- order-violation scoring N x M x D ----
{
  const im = tf.randomUniform([S.N, S.D], 0, 1 / Math.sqrt(S.D), 'float32', 1) as tf.Tensor2D;
  const cap = tf.randomUniform([S.M, S.D], 0, 1 / Math.sqrt(S.D), 'float32', 2) as tf.Tensor2D;
  let E: tf.Tensor | null = null;
  const { ms, n } = await timeIt(
    () => {
      E?.dispose();
      E = orderViolation(im, cap, { path: 'webgpu-kernel' });
    },
    async () => {
      if (E) await readOne(E);
    },
    S.reps,
  );
  (E as tf.Tensor | null)?.dispose();
  tf.dispose([im, cap]);
  // The bytes it cannot avoid moving: both inputs read once, the energies written once (float32).
  const bytes = 4 * (S.N * S.D + S.M * S.D + S.N * S.M);
  const gbps = bytes / (ms / 1000) / 1e9;
  const fraction = peak ? gbps / peak.gbps : undefined;
  console.log(
    `scoring     ${S.N} x ${S.M} x ${S.D}: ${ms.toFixed(2)} ms (${n} runs), ${(bytes / 1e6).toFixed(1)} MB moved, ` +
      `${gbps.toPrecision(3)} GB/s = ${fraction === undefined ? 'unknown' : `${(100 * fraction).toPrecision(3)}%`} of peak bandwidth; ` +
      `${((S.N * S.M * S.D) / (ms / 1000) / 1e9).toPrecision(3)} G pair-dims/s`,
  );
  figures.scoring_ms = fmt(ms, 2);
  figures.scoring_gbps = Number(gbps.toPrecision(3));
  figures.scoring_bandwidth_fraction = fraction === undefined ? 'unknown' : Number(fraction.toPrecision(3));
}

const state = kernelState();
if (state.status !== 'ready') console.log(`kernels: ${state.status}: ${state.message}`);
figures.seconds = fmt((performance.now() - started) / 1000);
figures.quick = quick ? 1 : 0;
console.log(
  Object.entries(figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' '),
);
// Dawn keeps the process alive with its device: end it.
process.exit(0);
