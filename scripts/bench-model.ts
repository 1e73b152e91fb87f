/**
 * npm run bench:model [-- options]   (BENCH_MODEL in ./cli/commands.ts; `--help`, docs/cli.md)
 *
 * In one process, per backend: the backend's own plain matMul FLOP rate (128x1024 @ 1024x3072), the
 * forward+backward time of LN-GRU and GRU (batch 128, 12 steps, input 300, hidden 512 and 1024), and
 * full training steps per second (image-caption pairs/s) at those sizes; on wasm, an LN-GRU training step
 * with one thread against all threads (--threads, default one per core; data parallelism over
 * worker_threads, scripts/lib/parallel-pool.ts) at hidden 1024 and at the playground's default (hidden
 * 256, word 128, batch 64), with the machine's own ceiling for that speed-up (the one-thread step in as
 * many independent processes, ./lib/process-ceiling.ts); LN-GRU vs GRU (one layer's forward + backward, and a training step) at the
 * playground default and at hidden 1024 (part `lngru`); on wasm, the matrix products of a training
 * step at hidden 1024 and a one-thread training step with tfjs's XNNPACK against our kernel
 * (src/model/kernels/matmul-host.ts), in turn (part `matmul`). The other parts multiply with the kernel
 * ORDEREMBED_MATMUL names (our kernel by default; `xnnpack` for tfjs's). Prints a table and a last line
 * of name=value figures. Medians of repeated runs; the sizes are the issue's, fixed, so runs compare.
 */
import { initNodeBackend } from './lib/node-backend';
import { defaultThreadCount, ParallelPool } from './lib/parallel-pool';
import { parseCommand } from './cli/options';
import { BENCH_MODEL } from './cli/commands';
import * as tf from '../src/model/tf';
import { GruLayer, setHostLnPath } from '../src/model/gru';
import { Trainer } from '../src/model/trainer';
import { orderViolation } from '../src/model/scoring';
import type { Dataset } from '../src/model/types';
import { benchDataset, BENCH_F, BENCH_T } from './lib/bench-data';
import { processCeiling } from './lib/process-ceiling';
import { median } from './lib/stats';
import {
  hostMatMulBuild,
  installHostMatMul,
  uninstallHostMatMul,
  type MatMulBuild,
} from '../src/model/kernels/matmul-host';

const B = 128;
const T = BENCH_T;
const D = 300;
const F = BENCH_F;

/** Repetitions: `n` timed runs after `warmup` untimed ones. */
interface Reps {
  n: number;
  warmup: number;
}

/** Median wall-clock ms of `f` over `reps.n` runs after `reps.warmup` runs; `f` must read its result back. */
function time(f: () => void, reps: Reps): number {
  for (let i = 0; i < reps.warmup; i++) f();
  const ts: number[] = [];
  for (let i = 0; i < reps.n; i++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

function matMulGflops(reps: Reps): number {
  const a = tf.randomNormal([B, 1024]);
  const b = tf.randomNormal([1024, 3072]);
  const ms = time(
    () => {
      const c = tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
      c.dataSync();
      c.dispose();
    },
    { n: reps.n * 3 + 2, warmup: 2 },
  );
  tf.dispose([a, b]);
  return (2 * B * 1024 * 3072) / ms / 1e6;
}

/**
 * The cost of a matMul's new weights on this backend: a 64 x 1024 x 3072 product (a shard's rows
 * against a weight of W_hh's size at hidden 1024) with the same [1024, 3072] weights as last time against
 * fresh ones (as after every Adam step), median ms each. The wasm backend's XNNPACK packs a product's
 * second operand once per tensor, so a weight multiplied as the second operand (W_hh in the backward's
 * d h_prev, W_ih, the image projection) is packed by every thread of the pool in every step, whatever
 * its share of the batch.
 */
function matMulPackMs(reps: Reps): { same: number; fresh: number } {
  const a = tf.randomNormal([64, 1024]) as tf.Tensor2D;
  const w = tf.randomNormal([1024, 3072]) as tf.Tensor2D;
  /** ms of the product a @ b, read back. */
  const product = (b: tf.Tensor2D): number => {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    const ms = performance.now() - t0;
    c.dispose();
    return ms;
  };
  const same: number[] = [];
  const fresh: number[] = [];
  product(w); // warm-up: w is packed from here on
  for (let i = 0; i < reps.n * 2 + 1; i++) {
    same.push(product(w));
    const b = tf.tidy(() => w.add(0)) as tf.Tensor2D; // the same values in a new tensor: packed afresh
    b.dataSync();
    fresh.push(product(b));
    b.dispose();
  }
  tf.dispose([a, w]);
  return { same: median(same), fresh: median(fresh) };
}

/**
 * Median ms of each of `fs`, timed in turn (f0, f1, f0, f1, ...) so that load from other jobs on the
 * machine hits them alike; `reps.warmup` untimed rounds first. Also f0 / f1 as the median over rounds
 * of a round's ratio, of wall time (`rounds`) and of this process's CPU time (`cpu`): on a shared
 * machine the two runs of a round see about the same load, so these vary less than a ratio of medians.
 */
function timeInTurn(
  fs: (() => void)[],
  reps: Reps,
): { ms: number[]; ratio: { rounds: number; cpu: number } } {
  for (let i = 0; i < reps.warmup; i++) fs.forEach((f) => f());
  const ts: number[][] = fs.map(() => []);
  const cpu: number[][] = fs.map(() => []);
  for (let i = 0; i < reps.n; i++)
    fs.forEach((f, k) => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      f();
      ts[k].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[k].push(c.user + c.system);
    });
  const perRound = (a: number[][]) => median(a[0].map((v, i) => v / a[1][i]));
  return { ms: ts.map(median), ratio: { rounds: perRound(ts), cpu: perRound(cpu) } };
}

/**
 * The matrix products of an LN-GRU training step at hidden 1024 (batch 128, 12 steps, word 300, image
 * feature 1024), as src/model/gru-composite.ts and model.ts issue them: [M, K] @ [K, N], and how many
 * of each a step takes.
 */
const STEP_PRODUCTS = [
  { what: 'forward W_hh h^T (ops.ts matMulWt)', M: 3072, K: 1024, N: B, count: T },
  { what: 'input side x W_ih^T', M: T * B, K: D, N: 3072, count: 1 },
  { what: 'backward d h_prev = d gh W_hh', M: B, K: 3072, N: 1024, count: T },
  { what: 'd W_hh^T = d GH^T h_prev', M: 3072, K: T * B, N: 1024, count: 1 },
  { what: 'd W_ih^T = x^T d GI', M: D, K: T * B, N: 3072, count: 1 },
  { what: 'image projection', M: B, K: F, N: 1024, count: 1 },
];

/** Makes tfjs's matMul `kernel`: tfjs's own ('xnnpack') or a build of ours. */
function useMatMul(kernel: MatMulBuild | 'xnnpack'): void {
  if (kernel === 'xnnpack') uninstallHostMatMul();
  else if (installHostMatMul(kernel) !== kernel)
    throw new Error(`matMul build '${kernel}' does not run here`);
}

/**
 * Each of a step's products with tfjs's XNNPACK and with our kernel's builds, in turn (XNNPACK with
 * the same second operand every time: its packing cached, its best case), median ms; then one-thread
 * LN-GRU training steps at hidden 1024, XNNPACK and ours in turn. Leaves the kernel as it found it.
 */
function matMulPart(ds: Dataset, reps: Reps, figures: Record<string, string>, backend: string): void {
  const was = hostMatMulBuild() ?? 'xnnpack';
  const kernels = ['xnnpack', 'relaxed', 'plain'] as const;
  const totals = kernels.map(() => 0);
  let flops = 0;
  for (const p of STEP_PRODUCTS) {
    const a = tf.randomNormal([p.M, p.K]) as tf.Tensor2D;
    const b = tf.randomNormal([p.K, p.N]) as tf.Tensor2D;
    const runs = kernels.map((k) => () => {
      useMatMul(k);
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
    });
    const { ms } = timeInTurn(runs, { n: 2 * reps.n + 1, warmup: 1 });
    tf.dispose([a, b]);
    const gf = (x: number) => ((2 * p.M * p.K * p.N) / x / 1e6).toFixed(1);
    console.log(
      `${backend} matMul ${p.M}x${p.K}x${p.N} (${p.what}, x${p.count} a step): ` +
        kernels.map((k, i) => `${k} ${ms[i].toFixed(1)} ms = ${gf(ms[i])} GFLOP/s`).join(', '),
    );
    ms.forEach((x, i) => (totals[i] += p.count * x));
    flops += p.count * 2 * p.M * p.K * p.N;
  }
  kernels.forEach(
    (k, i) => (figures[`matmul_step_gflops_${k}_${backend}`] = (flops / totals[i] / 1e6).toFixed(1)),
  );
  figures[`matmul_step_speedup_${backend}`] = (totals[0] / totals[1]).toFixed(3);
  console.log(
    `${backend} a step's products (${(flops / 1e9).toFixed(1)} GFLOP): ` +
      kernels.map((k, i) => `${k} ${totals[i].toFixed(0)} ms`).join(', ') +
      ` (relaxed x${(totals[0] / totals[1]).toFixed(2)}, plain x${(totals[0] / totals[2]).toFixed(2)} over XNNPACK)`,
  );
  // A whole one-thread training step at hidden 1024 with each kernel, in turn (same seed and batches).
  const steps = (['xnnpack', 'relaxed'] as const).map((k) => {
    useMatMul(k);
    const tr = new Trainer(
      ds,
      { hiddenDim: 1024, wordDim: D, layerNorm: true },
      { batchSize: B, minWordCount: 1 },
    );
    return { k, tr };
  });
  const train = timeInTurn(
    steps.map(({ k, tr }) => () => {
      useMatMul(k);
      void tr.step();
    }),
    reps,
  );
  steps.forEach(({ tr }) => tr.dispose());
  const [xs, hs] = train.ms.map((ms) => (B * 1000) / ms);
  console.log(
    `${backend} LN-GRU train step H=1024, 1 thread: XNNPACK ${train.ms[0].toFixed(0)} ms = ${xs.toFixed(1)} pairs/s, ` +
      `ours (relaxed) ${train.ms[1].toFixed(0)} ms = ${hs.toFixed(1)} pairs/s (x${(hs / xs).toFixed(3)}; per-round median x${train.ratio.rounds.toFixed(3)})`,
  );
  figures[`train_pairs_per_s_xnnpack_${backend}`] = xs.toFixed(1);
  figures[`train_pairs_per_s_matmul_host_${backend}`] = hs.toFixed(1);
  figures[`train_matmul_host_speedup_${backend}`] = train.ratio.rounds.toFixed(3);
  useMatMul(was);
}

/** One forward + backward of a (LN-)GRU layer on [T, batch, D] inputs, read back; returns a run function. */
function rnnFwdBwd(
  H: number,
  layerNorm: boolean,
  d = D,
  batch = B,
): { run: () => void; dispose: () => void } {
  const layer = new GruLayer(d, H, layerNorm, 1);
  const x = tf.randomNormal([T, batch, d]) as tf.Tensor3D;
  const lengths = new Array(batch).fill(T);
  const dh = tf.randomNormal([batch, H]) as tf.Tensor2D;
  const run = () => {
    const f = layer.forward(x, lengths, { cache: true });
    const g = layer.backward(f.cache!, null, dh);
    g.params.weight_ih!.dataSync();
    g.x.dataSync();
    GruLayer.disposeCache(f.cache!);
    tf.dispose([f.hN, g.x, ...Object.values(g.params)]);
  };
  return {
    run,
    dispose: () => {
      tf.dispose([x, dh]);
      layer.dispose();
    },
  };
}

function rnnFwdBwdMs(H: number, layerNorm: boolean, reps: Reps): number {
  const r = rnnFwdBwd(H, layerNorm);
  const ms = time(r.run, reps);
  r.dispose();
  return ms;
}

/**
 * Order-violation energy, forward + backward, for an [n, D] x [m, D] pair: the fused host loop vs the
 * chunked composite ops, on the active backend.
 */
function scoringMs(
  n: number,
  m: number,
  path: 'host-fused' | 'composite',
  reps: Reps,
  backward: boolean,
): number {
  const im = tf.randomUniform([n, F]) as tf.Tensor2D;
  const cap = tf.randomUniform([m, F]) as tf.Tensor2D;
  const ms = time(() => {
    if (backward) {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        orderViolation(a as tf.Tensor2D, b as tf.Tensor2D, { path }).sum(),
      )([im, cap]);
      g[0].dataSync();
      tf.dispose(g);
    } else {
      const e = orderViolation(im, cap, { path });
      e.dataSync();
      e.dispose();
    }
  }, reps);
  tf.dispose([im, cap]);
  return ms;
}

/** Matrix-product FLOPs of one training step: forward, and twice that for the backward pass. */
function trainStepFlops(H: number): number {
  const fwd = 2 * T * B * D * 3 * H + 2 * T * B * H * 3 * H + 2 * B * F * H;
  return 3 * fwd;
}

function trainStepMs(H: number, layerNorm: boolean, ds: Dataset, reps: Reps): number {
  const tr = new Trainer(ds, { hiddenDim: H, wordDim: D, layerNorm }, { batchSize: B, minWordCount: 1 });
  const ms = time(() => void tr.step(), reps);
  tr.dispose();
  return ms;
}

/** A training step's size: the issue's (hidden 1024, word 300, batch 128) or the playground default. */
interface StepSize {
  H: number;
  W: number;
  batch: number;
}

/**
 * Median ms of an LN-GRU training step at `size` with one thread and over `pool`'s threads (data
 * parallelism, scripts/lib/parallel-pool.ts): the same seed and batches, steps taken in turn (one thread,
 * then the pool) so that load from other jobs hits both alike. Also how busy the pool's threads were.
 */
function threadedStepMs(
  size: StepSize,
  ds: Dataset,
  reps: Reps,
  pool: ParallelPool,
): [number, number, number, Record<string, number>] {
  const make = () =>
    new Trainer(
      ds,
      { hiddenDim: size.H, wordDim: size.W, layerNorm: true },
      { batchSize: size.batch, minWordCount: 1 },
    );
  const trainers = [make(), make()];
  pool.attach(trainers[1]);
  for (let i = 0; i < reps.warmup; i++) trainers.forEach((t) => t.step());
  const ms: number[][] = [[], []];
  const busy = pool.busyMs.reduce((x, y) => x + y, 0);
  const phases0 = { ...pool.phaseMs };
  for (let i = 0; i < reps.n; i++)
    trainers.forEach((t, k) => {
      const t0 = performance.now();
      t.step();
      ms[k].push(performance.now() - t0);
    });
  trainers.forEach((t) => t.dispose());
  // How busy the threads were during the pool's steps: their compute time over threads x wall time.
  const wall = ms[1].reduce((x, y) => x + y, 0);
  const busyFraction = (pool.busyMs.reduce((x, y) => x + y, 0) - busy) / (pool.size * wall);
  // Mean ms per threaded step of each phase; `outside`: the step's work outside the pool (batch, clip, Adam).
  const phases: Record<string, number> = {};
  for (const [k, v] of Object.entries(pool.phaseMs))
    phases[k] = (v - phases0[k as keyof typeof phases0]) / reps.n;
  phases.outside = wall / reps.n - Object.values(phases).reduce((x, y) => x + y, 0);
  return [median(ms[0]), median(ms[1]), busyFraction, phases];
}

async function main(): Promise<void> {
  const { values: a } = parseCommand(BENCH_MODEL);
  const quick = Boolean(a.quick);
  const parts = a.parts;
  const backends = a.backends as ('wasm' | 'cpu')[];
  const ds = benchDataset(512);
  const figures: Record<string, string> = {};
  // Rows are printed as soon as they are measured (the cpu backend takes minutes per size).
  console.log(`bench:model  batch ${B}, ${T} steps, input ${D}, image feature ${F}; medians`);
  for (const backend of backends) {
    await initNodeBackend(backend);
    // The cpu backend is 10-50x slower: fewer repetitions, and in --quick mode no warm-up run.
    const reps: Reps =
      backend === 'cpu'
        ? quick
          ? { n: 1, warmup: 0 }
          : { n: 2, warmup: 1 }
        : { n: quick ? 3 : 5, warmup: 1 };
    const sizes = backend === 'cpu' && quick ? [512] : [512, 1024];
    if (backend === 'wasm') {
      const build = hostMatMulBuild();
      console.log(`wasm: matMul by ${build ? `our kernel (${build} SIMD)` : "tfjs's XNNPACK"}`);
      figures.matmul_wasm = build ?? 'xnnpack';
    }
    const gflops = matMulGflops(reps);
    figures[`matmul_gflops_${backend}`] = gflops.toFixed(1);
    console.log(`${backend}: plain matMul 128x1024x3072: ${gflops.toFixed(1)} GFLOP/s`);
    const pack = matMulPackMs(reps);
    figures[`matmul_new_weights_ms_${backend}`] = (pack.fresh - pack.same).toFixed(1);
    console.log(
      `${backend}: matMul 64x1024x3072 with the same weights ${pack.same.toFixed(1)} ms, with new weights ${pack.fresh.toFixed(1)} ms ` +
        `(a new [1024, 3072] weight costs ${(pack.fresh - pack.same).toFixed(1)} ms: once per step, in every thread)`,
    );
    if (parts.includes('scoring')) {
      // Training batch (fwd+bwd), then an evaluation-sized gallery (forward only; composite once).
      const host = scoringMs(B, B, 'host-fused', reps, true);
      const comp = scoringMs(B, B, 'composite', reps, true);
      const evalSized = !(quick && backend === 'cpu');
      const hostEval = evalSized ? scoringMs(1000, 5000, 'host-fused', { n: 1, warmup: 0 }, false) : NaN;
      console.log(
        `${backend} order-violation 128x128x1024 fwd+bwd: fused host ${host.toFixed(1)} ms, composite ${comp.toFixed(1)} ms ` +
          `(x${(comp / host).toFixed(1)})` +
          (evalSized ? `; 1000x5000x1024 forward, fused host: ${hostEval.toFixed(0)} ms` : ''),
      );
      figures[`scoring_train_ms_fused_${backend}`] = host.toFixed(1);
      figures[`scoring_train_ms_composite_${backend}`] = comp.toFixed(1);
      if (evalSized) figures[`scoring_eval_ms_fused_${backend}`] = hostEval.toFixed(0);
    }
    if (parts.includes('matmul') && backend === 'wasm') matMulPart(ds, reps, figures, backend);
    const threads = a.threads ?? defaultThreadCount();
    if (parts.includes('threads') && backend === 'wasm' && threads > 1) {
      // One thread vs all threads (data parallelism over worker_threads) at the issue's size and the
      // playground's default; figures without a size suffix are hidden 1024.
      const pool = await ParallelPool.start(threads, backend);
      figures[`threads_${backend}`] = String(threads);
      const playground = { H: 256, W: 128, batch: 64 };
      for (const size of [{ H: 1024, W: D, batch: B }, playground]) {
        const [one, all, busy, phases] = threadedStepMs(size, ds, reps, pool);
        const [p1, pn] = [one, all].map((ms) => (size.batch * 1000) / ms);
        console.log(
          `${backend} LN-GRU train step H=${size.H} W=${size.W} batch ${size.batch}: 1 thread ${one.toFixed(0)} ms = ${p1.toFixed(1)} pairs/s, ` +
            `${threads} threads ${all.toFixed(0)} ms = ${pn.toFixed(1)} pairs/s (x${(pn / p1).toFixed(2)}; threads busy ${(100 * busy).toFixed(0)}% of it)`,
        );
        const f = (k: string) => phases[k].toFixed(0);
        console.log(
          `  a ${threads}-thread step, mean ms: threads' forward ${f('forward')}, backward ${f('backward')}, gradient sum ${f('reduce')}; ` +
            `main thread alone: weights published ${f('publish')}, loss head and shards ${f('main')}, batch + clip + Adam ${f('outside')}`,
        );
        const sfx = size === playground ? `_h${size.H}_${backend}` : `_${backend}`;
        figures[`pairs_per_s_lngru_1thread${sfx}`] = p1.toFixed(1);
        figures[`pairs_per_s_lngru_threads${sfx}`] = pn.toFixed(1);
        figures[`threads_speedup${sfx}`] = (pn / p1).toFixed(3);
        // The machine's own ceiling for that speed-up: the same one-thread step in `threads` processes.
        const c = await processCeiling(threads, size, reps.n);
        console.log(
          `  ceiling: ${threads} independent processes ${c.togetherMs.toFixed(0)} ms a step each, alone ${c.aloneMs.toFixed(0)} ms: ` +
            `x${c.ceiling.toFixed(2)} (the threads reach ${((100 * pn) / p1 / c.ceiling).toFixed(0)}% of it)`,
        );
        figures[`threads_ceiling${sfx}`] = c.ceiling.toFixed(3);
      }
      await pool.close();
    }
    for (const H of parts.includes('model') ? sizes : []) {
      const ln = rnnFwdBwdMs(H, true, reps);
      const plain = rnnFwdBwdMs(H, false, reps);
      const stepLn = trainStepMs(H, true, ds, reps);
      const stepPlain = trainStepMs(H, false, ds, reps);
      const pairsLn = (B * 1000) / stepLn;
      const pairsPlain = (B * 1000) / stepPlain;
      const frac = trainStepFlops(H) / stepLn / 1e6 / gflops;
      console.log(
        `${backend} H=${H}: fwd+bwd LN-GRU ${ln.toFixed(1)} ms, GRU ${plain.toFixed(1)} ms (x${(ln / plain).toFixed(2)}); ` +
          `train step LN ${stepLn.toFixed(0)} ms = ${pairsLn.toFixed(1)} pairs/s, GRU ${stepPlain.toFixed(0)} ms = ${pairsPlain.toFixed(1)} pairs/s; ` +
          `matmul FLOP fraction (LN) ${frac.toFixed(2)}`,
      );
      const sfx = H === 1024 ? `_${backend}` : `_h${H}_${backend}`;
      figures[`lngru_ms${sfx}`] = ln.toFixed(1);
      figures[`gru_ms${sfx}`] = plain.toFixed(1);
      figures[`lngru_vs_gru${sfx}`] = (ln / plain).toFixed(3);
      figures[`pairs_per_s_lngru${sfx}`] = pairsLn.toFixed(1);
      figures[`pairs_per_s_gru${sfx}`] = pairsPlain.toFixed(1);
      figures[`train_flops_fraction${sfx}`] = frac.toFixed(3);
    }
    if (parts.includes('lngru')) {
      // LN-GRU vs GRU at the playground's default (hidden 256, word 128, batch 64) and at hidden 1024
      // (word 300, batch 128): one layer's forward + backward, and a whole training step, LN and plain
      // timed in turn. Overrides the model part's lngru_vs_gru_<backend> (taken one after the other).
      // Each size with the LN-GRU's layer norms on the host (the default here), then as composite tfjs
      // ops (figures prefixed composite_), as before/after in one run.
      const lnSizes = [
        { H: 256, W: 128, batch: 64 },
        { H: 1024, W: D, batch: B },
      ];
      const stepPaths = ['host-ln', 'composite'] as const;
      for (const [size, stepPath] of lnSizes.flatMap((s) => stepPaths.map((p) => [s, p] as const))) {
        setHostLnPath(stepPath);
        const rnn = [true, false].map((ln) => rnnFwdBwd(size.H, ln, size.W, size.batch));
        const lnReps = { n: 2 * reps.n - 1, warmup: reps.warmup }; // more rounds: the spread is the load
        const layer = timeInTurn(
          rnn.map((r) => r.run),
          lnReps,
        );
        const [lnMs, plainMs] = layer.ms;
        rnn.forEach((r) => r.dispose());
        const trainers = [true, false].map(
          (layerNorm) =>
            new Trainer(
              ds,
              { hiddenDim: size.H, wordDim: size.W, layerNorm },
              { batchSize: size.batch, minWordCount: 1 },
            ),
        );
        const train = timeInTurn(
          trainers.map((t) => () => void t.step()),
          lnReps,
        );
        const [stepLn, stepPlain] = train.ms;
        trainers.forEach((t) => t.dispose());
        console.log(
          `${backend} ${stepPath} LN vs GRU H=${size.H} W=${size.W} batch ${size.batch}: fwd+bwd LN-GRU ${lnMs.toFixed(1)} ms, GRU ${plainMs.toFixed(1)} ms (x${(lnMs / plainMs).toFixed(3)}); ` +
            `train step LN ${stepLn.toFixed(1)} ms, GRU ${stepPlain.toFixed(1)} ms (x${(stepLn / stepPlain).toFixed(3)}); ` +
            `per-round medians fwd+bwd x${layer.ratio.rounds.toFixed(3)} (CPU x${layer.ratio.cpu.toFixed(3)}), ` +
            `train step x${train.ratio.rounds.toFixed(3)} (CPU x${train.ratio.cpu.toFixed(3)})`,
        );
        const sfx = size.H === 1024 ? `_${backend}` : `_h${size.H}_${backend}`;
        const pre = stepPath === 'composite' ? 'composite_' : '';
        figures[`${pre}lngru_ms${sfx}`] = lnMs.toFixed(1);
        figures[`${pre}gru_ms${sfx}`] = plainMs.toFixed(1);
        figures[`${pre}lngru_vs_gru${sfx}`] = (lnMs / plainMs).toFixed(3);
        figures[`${pre}train_lngru_vs_gru${sfx}`] = (stepLn / stepPlain).toFixed(3);
        figures[`${pre}train_ms_lngru${sfx}`] = stepLn.toFixed(1);
        figures[`${pre}train_ms_gru${sfx}`] = stepPlain.toFixed(1);
        figures[`${pre}lngru_vs_gru_rounds${sfx}`] = layer.ratio.rounds.toFixed(3);
        figures[`${pre}lngru_vs_gru_cpu${sfx}`] = layer.ratio.cpu.toFixed(3);
        figures[`${pre}train_lngru_vs_gru_rounds${sfx}`] = train.ratio.rounds.toFixed(3);
        figures[`${pre}train_lngru_vs_gru_cpu${sfx}`] = train.ratio.cpu.toFixed(3);
      }
      setHostLnPath('host-ln');
    }
  }
  // The issue's pairs_per_s_lngru_<backend> is the all-threads figure at hidden 1024 when threads ran;
  // the model part's one-thread figure stays as pairs_per_s_lngru_1thread_<backend>.
  for (const backend of backends) {
    const all = figures[`pairs_per_s_lngru_threads_${backend}`];
    if (all === undefined) continue;
    if (figures[`pairs_per_s_lngru_${backend}`] !== undefined)
      figures[`pairs_per_s_lngru_1thread_model_${backend}`] = figures[`pairs_per_s_lngru_${backend}`];
    figures[`pairs_per_s_lngru_${backend}`] = all;
  }
  console.log(
    Object.entries(figures)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:model: ${(e as Error).stack}\n`);
  process.exit(1);
});
