/**
 * npm run bench:kernels [-- options]   (BENCH_KERNELS in ./cli/commands.ts; `--help`, docs/cli.md)
 *
 * Speed of the WGSL kernels (src/model/kernels/*.wgsl.ts) against the composite tfjs ops they replace,
 * on the same backend, and of the composite (and host-fused) paths across backends. It builds dist/ if
 * stale, serves it, and drives kernels.html (bench/kernels-page.ts) in headless Chromium, one
 * browser per backend. Each figure is the median of a few runs after one warm-up run (which compiles
 * the shaders), in ms, with the result read back (so GPU work is included).
 *
 * Measured: order-violation scoring N x M at D (forward; forward + both gradients in --quick), top-10
 * retrieval over a gallery in blocks, one LN-GRU step after the matrix products (forward, backward),
 * the LN-GRU forward + backward over T steps (and the forward alone), and one training step
 * (model.lossAndGrads: LN-GRU, scoring, loss). `--parts tail` (not a default part) times the pieces of
 * the kernel path's backward after its step loop against the matrix products of the same shapes.
 * Paths too slow to run whole at full size are timed on a part and scaled linearly; their names say so
 * ("composite~8rows").
 *
 * Last line: name=value figures: scoring_speedup, lngru_step_speedup, train_step_speedup (kernel vs
 * composite on webgpu), backend, adapter, plus per-backend medians.
 */
import { parseCommand } from './cli/options';
import { BENCH_KERNELS } from './cli/commands';
import type { Page } from 'playwright-core';
import { serveAndLaunch } from '../tests/e2e/harness';

const { values: args } = parseCommand(BENCH_KERNELS);
const PARTS = ['scoring', 'top10', 'step', 'lngru', 'train', 'tail'] as const;
const parts = new Set(args.parts.map((p) => p.trim()));
for (const p of parts) {
  if (!(PARTS as readonly string[]).includes(p))
    throw new Error(`--parts: unknown part '${p}' (${PARTS.join(', ')})`);
}
const quick = Boolean(args.quick);
const backends = args.backends.map((b) => b.trim()) as ('webgpu' | 'webgl' | 'wasm' | 'cpu')[];

const FLAGS: Record<string, string[]> = {
  swiftshader: ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader'],
  // Mesa llvmpipe through ANGLE's GLES backend, offered as a 'compatibility' adapter.
  gles: ['--enable-unsafe-webgpu', '--use-angle=gl-egl', '--use-webgpu-adapter=opengles'],
  webgl: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
  host: ['--disable-gpu'],
};

/** Sizes: the issue's (full) and a < 3 min version (quick). */
const S = quick
  ? {
      reps: 3,
      scoring: [{ N: 128, M: 512, D: 128, grads: true, partial: undefined as number | undefined }],
      topk: { N: 16, M: 8192, D: 128, blockRows: 2048, partialBlocks: 1 },
      steps: [{ B: 64, H: 128 }],
      lngru: [{ T: 8, B: 16, D: 64, H: 64 }],
      train: [{ T: 8, B: 16, H: 64 }],
    }
  : {
      reps: 2,
      scoring: [{ N: 1000, M: 5000, D: 1024, grads: false, partial: 8 as number | undefined }],
      topk: { N: 128, M: 100000, D: 1024, blockRows: 8192, partialBlocks: 1 },
      steps: [
        { B: 128, H: 512 },
        { B: 128, H: 1024 },
      ],
      lngru: [
        { T: 12, B: 128, D: 300, H: 512 },
        { T: 12, B: 128, D: 300, H: 1024 },
      ],
      train: [
        { T: 12, B: 128, H: 512 },
        { T: 12, B: 128, H: 1024 },
      ],
    };

type Row = { op: string; backend: string; shape: string; figures: Record<string, number> };
const rows: Row[] = [];
const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

function report(op: string, backend: string, shape: string, figures: Record<string, number>): void {
  rows.push({ op, backend, shape, figures });
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${fmt(v)}ms`);
  console.log(`${op.padEnd(10)} ${backend.padEnd(7)} ${shape.padEnd(26)} ${parts.join('  ')}`);
}

async function runBackend(backend: string): Promise<Record<string, string>> {
  const flags = backend === 'webgpu' ? FLAGS[args.adapter] : backend === 'webgl' ? FLAGS.webgl : FLAGS.host;
  if (!flags) throw new Error(`--adapter must be swiftshader or gles, got ${args.adapter}`);
  const served = await serveAndLaunch(flags);
  try {
    const page: Page = await served.browser.newPage();
    page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
    // Per-run times from the page, to stderr (progress; the table goes to stdout).
    page.on('console', (m) => {
      if (m.text().startsWith('[bench]')) console.error(`  ${m.text()}`);
    });
    await page.goto(`${served.url}kernels.html`);
    await page.waitForFunction(() => document.body.dataset.ready === '1');
    const info = await page.evaluate(
      ([b, compat]) => window.kernelsPage.init(b as 'webgpu', { compat: compat === 'gles' }),
      [backend, args.adapter],
    );
    if (info.backend !== backend) throw new Error(`asked for ${backend}, got ${info.backend}`);
    console.log(
      `# ${backend}${info.adapter ? ` (adapter: ${info.adapter})` : ''}; scoring path ${info.scoring}`,
    );
    const kernels = info.kernels;
    const host = backend === 'wasm' || backend === 'cpu';
    const scoringPaths = kernels
      ? ['webgpu-kernel', 'composite']
      : host
        ? ['host-fused', 'composite']
        : ['composite'];

    for (const sc of parts.has('scoring') ? S.scoring : []) {
      const partialRows: Record<string, number> = {};
      if (sc.partial) for (const p of scoringPaths) if (p !== 'webgpu-kernel') partialRows[p] = sc.partial;
      const r = await page.evaluate((a) => window.kernelsPage.benchScoring(a as never), {
        N: sc.N,
        M: sc.M,
        D: sc.D,
        reps: S.reps,
        grads: sc.grads,
        paths: scoringPaths,
        partialRows,
      });
      report('scoring', backend, `${sc.N}x${sc.M} D=${sc.D}`, r);
    }
    if (parts.has('top10')) {
      const t = S.topk;
      const partialBlocks: Record<string, number> = {};
      for (const p of scoringPaths) if (p !== 'webgpu-kernel') partialBlocks[p] = t.partialBlocks;
      const r = await page.evaluate((a) => window.kernelsPage.benchTopK(a as never), {
        ...t,
        reps: S.reps,
        paths: scoringPaths,
        partialBlocks,
      });
      report('top10', backend, `${t.N}x${t.M} D=${t.D}`, r);
    }
    if (kernels && parts.has('step')) {
      for (const st of S.steps) {
        const r = await page.evaluate((a) => window.kernelsPage.benchStep(a), { ...st, reps: S.reps * 3 });
        report('lngru-step', backend, `B=${st.B} H=${st.H}`, r);
      }
    }
    for (const g of parts.has('lngru') ? S.lngru : []) {
      const r = await page.evaluate((a) => window.kernelsPage.benchLnGru(a), { ...g, reps: S.reps });
      report('lngru', backend, `T=${g.T} B=${g.B} H=${g.H}`, r);
    }
    // Not in the default parts: the kernel path's backward after the step loop, piece by piece, with
    // the matrix products of the same shapes for scale.
    for (const g of kernels && parts.has('tail') ? S.lngru : []) {
      const r = await page.evaluate((a) => window.kernelsPage.benchBackwardTail(a), { ...g, reps: S.reps });
      report('bwd-tail', backend, `T=${g.T} B=${g.B} H=${g.H}`, r);
    }
    for (const tr of parts.has('train') ? S.train : []) {
      const r = await page.evaluate((a) => window.kernelsPage.benchTrainStep(a), {
        ...tr,
        reps: S.reps,
        kernels: kernels ? [true, false] : [false],
      });
      report('train', backend, `T=${tr.T} B=${tr.B} H=${tr.H}`, r);
    }
    return { adapter: info.adapter };
  } finally {
    await served.close();
  }
}

const started = Date.now();
console.log(`bench:kernels ${quick ? '--quick' : '(full)'}; backends ${backends.join(',')}; median ms`);
let adapter = '';
for (const b of backends) {
  try {
    const r = await runBackend(b);
    if (b === 'webgpu') adapter = r.adapter;
  } catch (e) {
    console.log(`# ${b}: failed: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Kernel vs composite on webgpu, and medians per backend, as name=value. */
const out: Record<string, string> = {};
const ratio = (a?: number, b?: number) => (a && b ? (a / b).toFixed(2) : 'n/a');
const pick = (op: string, backend: string, last = true) => {
  const rs = rows.filter((r) => r.op === op && r.backend === backend);
  return last ? rs[rs.length - 1] : rs[0];
};
const find = (f: Record<string, number> | undefined, prefix: string, suffix: string) =>
  f ? Object.entries(f).find(([k]) => k.startsWith(prefix) && k.endsWith(suffix))?.[1] : undefined;
const sc = pick('scoring', 'webgpu')?.figures;
out.scoring_speedup = ratio(find(sc, 'composite', '_fwd'), sc?.['webgpu-kernel_fwd']);
const tk = pick('top10', 'webgpu')?.figures;
out.top10_speedup = ratio(find(tk, 'composite', '_topk'), tk?.['webgpu-kernel_topk']);
const st = pick('lngru-step', 'webgpu')?.figures;
out.lngru_step_speedup = st
  ? ratio(st.composite_fwd + st.composite_bwd, st.kernel_fwd + st.kernel_bwd)
  : 'n/a';
const lg = pick('lngru', 'webgpu')?.figures;
out.lngru_fwdbwd_speedup = ratio(lg?.composite_fwdbwd, lg?.['webgpu-kernel_fwdbwd']);
const tr = pick('train', 'webgpu')?.figures;
out.train_step_speedup = ratio(tr?.composite, tr?.kernel);
for (const b of backends) {
  const t = pick('train', b)?.figures;
  const ms = b === 'webgpu' ? t?.kernel : t?.composite;
  if (ms) out[`train_ms_${b}`] = fmt(ms);
  const s = pick('scoring', b)?.figures;
  const best = s
    ? Math.min(
        ...Object.entries(s)
          .filter(([k]) => k.endsWith('_fwd'))
          .map(([, v]) => v),
      )
    : undefined;
  if (best !== undefined) out[`scoring_ms_${b}`] = fmt(best);
}
out.backend = 'webgpu';
out.adapter = (adapter || 'none').replace(/\s+/g, '-');
out.mode = quick ? 'quick' : 'full';
out.seconds = ((Date.now() - started) / 1000).toFixed(0);
console.log(
  Object.entries(out)
    .map(([k, v]) => `${k}=${v}`)
    .join(' '),
);
