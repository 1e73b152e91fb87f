/**
 * npm run bench:ui [-- options]   (BENCH_UI in ./cli/commands.ts; `--help`, docs/cli.md)
 *
 * Does the playground keep its main thread free while it trains? Builds the app as `npm start` does
 * (production React), serves it, opens it in headless Chromium (Debian's, wasm backend: no GPU here),
 * loads the built-in scenes (or a feature pack such as `packs/flickr8k-mobilenet-v1-1.0-trunk/`),
 * clicks "Compare LN on/off" and records every main-thread task over 50 ms (the Long Tasks API) from
 * the click on, for --seconds, in a fresh page each repeat. The target (issue 4): no task over 100 ms.
 *
 * Prints each repeat's long tasks and a last line of name=value figures: the medians over the repeats of
 * the number of tasks over 50 ms and over 100 ms and of the longest task, the longest task of all, and
 * the loss points both runs streamed (to show that training ran). --baseline also serves other builds
 * (e.g. of an older commit: `git worktree add`, then `NODE_ENV=production vite build --outDir <dir>`),
 * in turns with this one, repeat by repeat, so that machine noise hits them alike; their figures are
 * printed with a `baseline_` prefix.
 *
 * --threads 1,2 opens the page with `?threads=N` for each N in turn (1: tfjs's single-threaded SIMD wasm;
 * more: its threaded build, which needs the page cross-origin isolated) and reports each setting's figures
 * with a `threads<N>_` prefix, with what the header showed (backend, thread count, why single-threaded).
 * Every repeat also reports the training rate: the median, over one-second samples after --warmup
 * seconds, of the Pairs/s column (the worker's own step-time rate, evaluations excluded), averaged over
 * the runs shown. --single clicks Start (one LN-GRU run) instead of "Compare LN on/off". With Compare,
 * each run's own rate is sampled too, and `lngru_vs_gru` is the median over repeats of GRU pairs/s over
 * LN-GRU pairs/s: what an LN-GRU step costs in GRU steps in the page (issue 18's target: 1.15 at most).
 */
import { parseCommand } from './cli/options';
import { BENCH_UI } from './cli/commands';
import { median } from './lib/stats';
import { serveAndLaunch, type Served } from '../tests/e2e/harness';

async function main(): Promise<void> {
  const { values: a } = parseCommand(BENCH_UI);
  const seconds = a.seconds;
  const repeats = a.repeats;
  const scenes = a.scenes;
  const warmup = a.warmup;
  if (!(warmup >= 0 && warmup < seconds)) throw new Error(`--warmup: must be below --seconds (${seconds})`);
  // This checkout's build first, then any --baseline builds, taking turns repeat by repeat; within a
  // build, each --threads setting in turn.
  const builds = [undefined, ...(a.baseline ?? [])];
  const threadList: (number | undefined)[] = a.threads ?? [undefined];
  const configs = builds.flatMap((dir, b) => threadList.map((threads) => ({ dir, b, threads })));
  const servers: Served[] = [];
  const stats = configs.map(() => ({
    over50: [] as number[],
    over100: [] as number[],
    longest: [] as number[],
    points: [] as number[],
    pairs: [] as number[],
    /** Compare: GRU pairs/s over LN-GRU pairs/s, per repeat (an LN-GRU step's cost in GRU steps). */
    lnCost: [] as number[],
    shown: new Set<string>(),
  }));
  try {
    for (const dir of builds) servers.push(await serveAndLaunch(undefined, dir));
    for (let r = 0; r < repeats; r++) {
      for (const [c, { dir, b, threads }] of configs.entries()) {
        const st = stats[c]!;
        const m = await measure(servers[b]!, a, { scenes, seconds, warmup, threads });
        st.over50.push(m.tasks.length);
        st.over100.push(m.tasks.filter((t) => t > 100).length);
        st.longest.push(Math.max(0, ...m.tasks));
        st.points.push(m.points);
        st.pairs.push(m.pairsPerSec);
        if (m.lnPairsPerSec > 0 && m.gruPairsPerSec > 0) st.lnCost.push(m.gruPairsPerSec / m.lnPairsPerSec);
        st.shown.add(m.shown);
        console.log(
          `${dir ?? 'this build'}${threads === undefined ? '' : ` ?threads=${threads}`}, repeat ${r + 1}: ` +
            `${m.dataset}: ${m.shown}; ${seconds} s of training, loss points ${m.points}, ` +
            `pairs/s ${m.pairsPerSec.toFixed(1)}` +
            (a.single ? '' : ` (LN-GRU ${m.lnPairsPerSec.toFixed(1)}, GRU ${m.gruPairsPerSec.toFixed(1)})`) +
            `; tasks over 50 ms (ms): [${m.tasks.join(', ')}]`,
        );
      }
    }
  } finally {
    for (const s of servers) await s.close();
  }
  configs.forEach(({ dir, b, threads }, c) => {
    const st = stats[c]!;
    const prefix =
      (b === 0 ? '' : `baseline${builds.length > 2 ? b : ''}_`) +
      (threads === undefined ? '' : `threads${threads}_`);
    if (b > 0 && threads === threadList[0]) console.log(`baseline ${b}: ${dir}`);
    console.log(
      `${prefix}tasks_over_50ms=${median(st.over50)} ${prefix}tasks_over_100ms=${median(st.over100)} ` +
        `${prefix}longest_task_ms=${median(st.longest)} ${prefix}longest_task_ms_max=${Math.max(...st.longest)} ` +
        `${prefix}loss_points=${median(st.points)} ${prefix}pairs_per_s=${median(st.pairs).toFixed(1)} ` +
        (st.lnCost.length ? `${prefix}lngru_vs_gru=${median(st.lnCost).toFixed(3)} ` : '') +
        `${prefix}shown="${[...st.shown].join(' | ')}" seconds=${seconds} repeats=${repeats}`,
    );
  });
}

/** One repeat in a fresh browser context: load, start a compare, record long tasks for `seconds`. */
async function measure(
  served: Served,
  a: { pack?: string; hidden?: number; batch?: number; single?: boolean },
  o: { scenes: number; seconds: number; warmup: number; threads: number | undefined },
): Promise<{
  tasks: number[];
  points: number;
  dataset: string;
  pairsPerSec: number;
  /** Compare only: the LN-GRU run's and the GRU run's own pairs/s (medians of the samples). */
  lnPairsPerSec: number;
  gruPairsPerSec: number;
  shown: string;
}> {
  const context = await served.browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const page = await context.newPage();
    const threads = o.threads === undefined ? '' : `&threads=${o.threads}`;
    await page.goto(`${served.url}?scenes=${o.scenes}${threads}`);
    const summary = page.getByTestId('dataset-summary');
    await page.waitForFunction(
      () => document.querySelector('[data-testid=dataset-summary]')?.getAttribute('data-loaded') === 'true',
      null,
      { timeout: 300_000 },
    );
    if (a.pack) {
      // The pack's field is on the Data tab (the page opens on Start).
      await page.getByRole('tab', { name: 'Data' }).click();
      await page.getByLabel('Feature pack URL').fill(a.pack);
      await page.getByRole('button', { name: 'Load pack' }).click();
      await page.waitForFunction(
        () => {
          const el = document.querySelector('[data-testid=dataset-summary]');
          return el?.getAttribute('data-loaded') === 'true' && !/scenes/.test(el.textContent ?? '');
        },
        null,
        { timeout: 300_000 },
      );
    }
    const dataset = (await summary.innerText()).replace(/\s+/g, ' ').slice(0, 80);
    await page.getByRole('tab', { name: 'Train' }).click();
    if (a.hidden) await page.getByLabel('Hidden size').fill(String(a.hidden));
    if (a.batch) await page.getByLabel('Batch size').fill(String(a.batch));
    await page.evaluate(() => {
      const w = window as unknown as { longTasks: number[] };
      w.longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.longTasks.push(Math.round(e.duration));
      }).observe({ type: 'longtask' });
    });
    // What the header shows: the backend, its thread count and why single-threaded, if so.
    const shown = (await page.locator('.backend-badge').innerText()).replace(/\s+/g, ' ').trim();
    const t0 = Date.now();
    await page.getByRole('button', { name: a.single ? 'Start' : 'Compare LN on/off', exact: true }).click();
    const samples: number[] = [];
    // Compare: each run's own pairs/s (its steps' time), by kind, so LN-GRU / GRU reads off the page.
    const byKind: Record<'ln' | 'gru', number[]> = { ln: [], gru: [] };
    await page.waitForTimeout(o.warmup * 1000);
    while (Date.now() - t0 < o.seconds * 1000) {
      const rows = await page.$$eval('[data-testid=run-stats] tbody tr', (trs) =>
        trs.map((r) => ({
          name: r.querySelector('th')?.textContent ?? '',
          rate: Number((r.querySelectorAll('td')[4]?.textContent ?? '').replace(/[^0-9.]/g, '')),
        })),
      );
      const live = rows.filter((x) => x.rate > 0);
      if (live.length) samples.push(live.reduce((x, y) => x + y.rate, 0) / live.length);
      if (!a.single && live.length === 2)
        for (const r of live) byKind[/\bLN\b|LN-GRU/.test(r.name) ? 'ln' : 'gru'].push(r.rate);
      await page.waitForTimeout(Math.min(1000, Math.max(0, o.seconds * 1000 - (Date.now() - t0))));
    }
    const tasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    const series = JSON.parse(
      (await page.getByTestId('chart-loss').getAttribute('data-series')) ?? '{}',
    ) as Record<string, number>;
    const points = Object.values(series).reduce((x, y) => x + y, 0);
    const med = (xs: number[]) => (xs.length ? median(xs) : NaN);
    return {
      tasks,
      points,
      dataset,
      pairsPerSec: med(samples),
      lnPairsPerSec: med(byKind.ln),
      gruPairsPerSec: med(byKind.gru),
      shown,
    };
  } finally {
    await context.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:ui: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
