/** The option tables of the benchmarks and probes: bench:model, bench:encoders, bench:kernels, bench:gpu, bench:ui, bench:gallery, probe-encoders. */
import { list, opt, positive, positiveInt } from '../options';
import { backend, command, threads } from './common';

export const BENCH_MODEL = command({
  name: 'bench:model',
  summary:
    'forward+backward and training-step speed of LN-GRU vs GRU per backend, and a training step with 1 vs all threads (wasm); last line `name=value` figures',
  description:
    "On wasm every command multiplies with orderembed's own matMul kernel (src/model/kernels/matmul-host.ts); `ORDEREMBED_MATMUL=xnnpack` gives tfjs's (also `relaxed`, `plain`: a build of ours), here and in train, compare and evaluate. Part `matmul` times both in turn. Results: [benchmarks.md](benchmarks.md)",
  options: {
    quick: opt({ type: 'boolean', help: 'small sizes, few repeats' }),
    backends: opt({
      type: 'string',
      value: 'wasm,cpu',
      help: 'backends',
      default: ['wasm', 'cpu'],
      check: list,
    }),
    parts: opt({
      type: 'string',
      value: 'scoring,matmul,model,threads',
      help: 'measurements (lngru: LN-GRU vs GRU, in turn)',
      default: ['scoring', 'matmul', 'model', 'threads'],
      check: list,
    }),
    threads,
  },
});

export const BENCH_ENCODERS = command({
  name: 'bench:encoders',
  summary:
    'feature-extraction photos/s per encoder, backend and crop count (Node wasm/cpu, or in headless Chromium: wasm, WebGL, WebGPU)',
  description: 'Results: [benchmarks.md](benchmarks.md)',
  options: {
    photos: opt({ type: 'number', value: 'N', help: 'photos per measurement', default: 32 }),
    'cpu-photos': opt({
      type: 'number',
      value: 'N',
      help: 'photos per measurement on the cpu backend',
      default: 2,
    }),
    backends: opt({
      type: 'string',
      value: 'a,b',
      help: 'backends',
      defaultText: 'wasm,cpu (in Node), wasm,webgl,webgpu (--browser)',
      check: list,
    }),
    encoders: opt({ type: 'string', value: 'a,b', help: 'encoder presets', defaultText: 'all', check: list }),
    crops: opt({ type: 'string', value: '1,10', help: 'crop counts', default: ['1', '10'], check: list }),
    browser: opt({ type: 'boolean', help: 'measure in headless Chromium' }),
  },
});

export const BENCH_KERNELS = command({
  name: 'bench:kernels',
  summary:
    'our WGSL kernels against the composite tfjs ops they replace, on the same WebGPU backend, and across backends, in headless Chromium',
  description:
    'The last line is `name=value` figures (`scoring_speedup`, `lngru_step_speedup`, `train_step_speedup`, `backend`).',
  options: {
    quick: opt({ type: 'boolean', help: 'small sizes, few repeats' }),
    backends: opt({
      type: 'string',
      value: 'a,b',
      help: 'backends',
      default: ['webgpu', 'webgl', 'wasm', 'cpu'],
      check: list,
    }),
    adapter: opt({
      type: 'string',
      value: 'swiftshader|gles',
      help: 'WebGPU adapter',
      default: 'swiftshader',
    }),
    parts: opt({
      type: 'string',
      value: 'scoring,top10,step,lngru,train,tail',
      help: 'measurements (the full sizes take long on software adapters)',
      default: ['scoring', 'top10', 'step', 'lngru', 'train'],
      check: list,
    }),
  },
});

export const BENCH_GPU = command({
  name: 'bench:gpu',
  summary:
    "a full training step (kernels vs composite), the LN-GRU step and order-violation scoring on the `webgpu` package's Dawn adapter in Node, no browser: for a bare GPU machine",
  description:
    'Prints the adapter first; without one it says what is missing (the `webgpu` package, its dawn.node, the Vulkan loader libvulkan.so.1, a Vulkan driver) and exits 1. ' +
    'The last line is `name=value` figures (`adapter`, `train_pairs_per_s_kernel`, `train_pairs_per_s_composite`, `lngru_step_speedup`, `scoring_gbps`, `scoring_bandwidth_fraction`). ' +
    'Bounded: under 5 minutes on a GPU (docs/benchmarks.md, bench:gpu).',
  options: {
    quick: opt({ type: 'boolean', help: 'small sizes (a software adapter; not GPU figures)' }),
    'peak-gbps': opt({
      type: 'number',
      value: 'GB/s',
      help: "the GPU's peak memory bandwidth (default: from the adapter's name, H100/H200/A100; else unknown)",
      check: positive(),
    }),
    adapter: opt({
      type: 'string',
      value: 'name',
      help: "Dawn's adapter by name (a wrong name lists them)",
    }),
    backend: opt({
      type: 'string',
      value: 'vulkan|null|...',
      help: "Dawn's backend (default: its choice, Vulkan on Linux)",
    }),
  },
});

export const BENCH_UI = command({
  name: 'bench:ui',
  summary:
    'main-thread long tasks (over 50 ms, and over 100 ms: the target is none) while the production playground trains a Compare in headless Chromium',
  options: {
    seconds: opt({ type: 'number', value: 'S', help: 'seconds of training per measurement', default: 60 }),
    repeats: opt({ type: 'number', value: 'N', help: 'measurements per build', default: 3 }),
    scenes: opt({ type: 'number', value: 'N', help: 'built-in scenes', default: 120 }),
    pack: opt({ type: 'string', value: 'url', help: 'feature pack URL instead of the scenes' }),
    hidden: opt({ type: 'number', value: 'H', help: 'hidden size in the Train form' }),
    batch: opt({ type: 'number', value: 'B', help: 'batch size in the Train form' }),
    baseline: opt({
      type: 'string',
      value: 'dir,...',
      help: 'other builds (dist folders) to measure alike',
      check: list,
    }),
    threads: opt({
      type: 'string',
      value: 'N,M,...',
      help: 'open the page with ?threads=N for each N in turn (1: single-threaded wasm), figures prefixed threads<N>_',
      check: (flag: string, s: string): number[] => s.split(',').map((v) => positiveInt(flag, Number(v))),
    }),
    single: opt({ type: 'boolean', help: 'click Start (one LN-GRU run) instead of Compare LN on/off' }),
    warmup: opt({
      type: 'number',
      value: 'S',
      help: 'seconds of training before the Pairs/s column is sampled',
      default: 5,
    }),
  },
});

export const PROBE_ENCODERS = command({
  name: 'probe-encoders',
  run: 'npx tsx scripts/probe-encoders.ts',
  summary:
    'retrieval probe of image encoders on Flickr8k (how the offline fallback encoder was chosen); ends with one JSON line',
  options: {
    encoders: opt({
      type: 'string',
      value: 'a,b',
      help: 'encoders (presets, or candidates read from --models-dir)',
      default: ['nsfwjs-mobilenet-v2-mid', 'centernet-mb3'],
      check: list,
    }),
    'models-dir': opt({
      type: 'string',
      value: 'DIR',
      help: 'folder of candidate models',
      defaultText: 'public/models',
    }),
    train: opt({ type: 'number', value: 'N', help: 'training photos', default: 2000 }),
    dev: opt({ type: 'number', value: 'N', help: 'dev photos', default: 1000 }),
    epochs: opt({ type: 'number', value: 'E', help: 'training epochs per seed', default: 5 }),
    seeds: opt({ type: 'string', value: '1,2', help: 'seeds', default: ['1'], check: list }),
    backend,
    cache: opt({ type: 'string', value: 'DIR', help: 'feature cache', defaultText: 'runs/encoder-probe' }),
  },
});

export const BENCH_GALLERY = command({
  name: 'bench:gallery',
  summary:
    'seconds to encode a dropped folder of Flickr8k dev photos into the gallery (production page, headless Chromium), with a progress, estimate and Cancel check',
  options: {
    photos: opt({
      type: 'number',
      value: 'N',
      help: 'dev photos in the folder (at most the split list holds)',
      default: 1000,
      check: positiveInt,
    }),
    repeats: opt({
      type: 'number',
      value: 'N',
      help: 'timed runs, each in a fresh browser context',
      default: 3,
      check: positiveInt,
    }),
    flickr: opt({
      type: 'string',
      value: 'DIR',
      help: 'Flickr8k folder (Images/, Flickr_8k.devImages.txt)',
      defaultText: '$ORDEREMBED_SHARED/data/flickr8k or ../shared/data/flickr8k',
    }),
  },
});
