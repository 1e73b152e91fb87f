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
 */
import { parseCommand } from './cli/options';
import { BENCH_UI } from './cli/commands';
import { serveAndLaunch, type Served } from '../tests/e2e/harness';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const { values: a } = parseCommand(BENCH_UI);
  const seconds = a.seconds;
  const repeats = a.repeats;
  const scenes = a.scenes;
  // This checkout's build first, then any --baseline builds, taking turns repeat by repeat.
  const builds = [undefined, ...(a.baseline ?? [])];
  const servers: Served[] = [];
  const stats = builds.map(() => ({
    over50: [] as number[],
    over100: [] as number[],
    longest: [] as number[],
    points: [] as number[],
  }));
  try {
    for (const dir of builds) servers.push(await serveAndLaunch(undefined, dir));
    for (let r = 0; r < repeats; r++) {
      for (const [b, served] of servers.entries()) {
        const st = stats[b]!;
        const tasks = await measure(served, a, scenes, seconds);
        st.over50.push(tasks.tasks.length);
        st.over100.push(tasks.tasks.filter((t) => t > 100).length);
        st.longest.push(Math.max(0, ...tasks.tasks));
        st.points.push(tasks.points);
        console.log(
          `${builds[b] ?? 'this build'}, repeat ${r + 1}: ${tasks.dataset}: ${seconds} s of training, loss points ` +
            `${tasks.points}; tasks over 50 ms (ms): [${tasks.tasks.join(', ')}]`,
        );
      }
    }
  } finally {
    for (const s of servers) await s.close();
  }
  builds.forEach((dir, b) => {
    const st = stats[b]!;
    const prefix = b === 0 ? '' : `baseline${builds.length > 2 ? b : ''}_`;
    if (b > 0) console.log(`baseline ${b}: ${dir}`);
    console.log(
      `${prefix}tasks_over_50ms=${median(st.over50)} ${prefix}tasks_over_100ms=${median(st.over100)} ` +
        `${prefix}longest_task_ms=${median(st.longest)} ${prefix}longest_task_ms_max=${Math.max(...st.longest)} ` +
        `${prefix}loss_points=${median(st.points)} seconds=${seconds} repeats=${repeats}`,
    );
  });
}

/** One repeat in a fresh browser context: load, start a compare, record long tasks for `seconds`. */
async function measure(
  served: Served,
  a: Record<string, unknown>,
  scenes: number,
  seconds: number,
): Promise<{ tasks: number[]; points: number; dataset: string }> {
  const context = await served.browser.newContext({
    viewport: { width: 1280, height: 900 },
  });
  try {
    const page = await context.newPage();
    await page.goto(`${served.url}?scenes=${scenes}`);
    const summary = page.getByTestId('dataset-summary');
    await page.waitForFunction(
      () => document.querySelector('[data-testid=dataset-summary]')?.getAttribute('data-loaded') === 'true',
      null,
      { timeout: 300_000 },
    );
    if (a.pack) {
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
    await page.getByRole('button', { name: 'Compare LN on/off' }).click();
    await page.waitForTimeout(seconds * 1000);
    const tasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    const series = JSON.parse(
      (await page.getByTestId('chart-loss').getAttribute('data-series')) ?? '{}',
    ) as Record<string, number>;
    return {
      tasks,
      points: Object.values(series).reduce((x, y) => x + y, 0),
      dataset,
    };
  } finally {
    await context.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:ui: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
