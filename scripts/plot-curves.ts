/**
 * Learning curves like the layer norm paper's figure, rendered to SVG from a `npm run compare` log:
 * dev R@1/5/10 in both directions against training steps and against training wall-clock, one line per
 * run, all runs on the same axes.
 *
 *   npm run plot -- <log.jsonl>[,<log.jsonl>...] <out-prefix>  -> <out-prefix>-steps.svg, -time.svg
 *
 * (logs of `npm run compare --log` and run folders' `log.jsonl` from `npm run train -- --out` alike),
 * and prints the log's summary (best R-sum per run; how fast the first run reached the second's best).
 */
import { parseCommand } from './cli/options';
import { PLOT } from './cli/commands';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { byRun, readLog, summarize, type LogLine } from './lib/run-log';

const COLOURS = ['#1f4fd1', '#d1541f', '#138a4c', '#8a2be2', '#555'];
const PANELS = [
  ['i2t', 'r1', 'caption retrieval R@1'],
  ['i2t', 'r5', 'caption retrieval R@5'],
  ['i2t', 'r10', 'caption retrieval R@10'],
  ['t2i', 'r1', 'image retrieval R@1'],
  ['t2i', 'r5', 'image retrieval R@5'],
  ['t2i', 'r10', 'image retrieval R@10'],
] as const;

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v)!;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function panel(
  x0: number,
  y0: number,
  w: number,
  h: number,
  title: string,
  series: { name: string; pts: [number, number][] }[],
  xLabel: string,
): string {
  const xMax = niceMax(Math.max(...series.flatMap((s) => s.pts.map((p) => p[0]))));
  const yMax = niceMax(Math.max(...series.flatMap((s) => s.pts.map((p) => p[1]))));
  const L = 44;
  const B = 34;
  const pw = w - L - 10;
  const ph = h - B - 24;
  const sx = (x: number) => x0 + L + (x / xMax) * pw;
  const sy = (y: number) => y0 + 24 + ph - (y / yMax) * ph;
  const out: string[] = [];
  out.push(`<text x="${x0 + L}" y="${y0 + 15}" font-size="13" font-weight="600">${esc(title)}</text>`);
  for (let k = 0; k <= 4; k++) {
    const yv = (yMax * k) / 4;
    const xv = (xMax * k) / 4;
    out.push(`<line x1="${sx(0)}" y1="${sy(yv)}" x2="${sx(xMax)}" y2="${sy(yv)}" stroke="#e3e3e3"/>`);
    out.push(
      `<text x="${sx(0) - 5}" y="${sy(yv) + 4}" font-size="10" text-anchor="end">${+yv.toFixed(1)}</text>`,
    );
    out.push(
      `<text x="${sx(xv)}" y="${sy(0) + 14}" font-size="10" text-anchor="middle">${+xv.toFixed(1)}</text>`,
    );
  }
  out.push(`<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(xMax)}" y2="${sy(0)}" stroke="#444"/>`);
  out.push(`<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(0)}" y2="${sy(yMax)}" stroke="#444"/>`);
  out.push(
    `<text x="${sx(xMax / 2)}" y="${y0 + h - 4}" font-size="11" text-anchor="middle">${esc(xLabel)}</text>`,
  );
  series.forEach((s, k) => {
    const d = s.pts.map((p, i) => `${i ? 'L' : 'M'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${COLOURS[k % COLOURS.length]}" stroke-width="2"/>`);
  });
  return out.join('\n');
}

export function renderCurves(lines: LogLine[], x: 'steps' | 'time'): string {
  const runs = [...new Set(lines.map((l) => l.run))];
  const W = 330;
  const H = 230;
  const cols = 3;
  const width = W * cols;
  const height = H * 2 + 40;
  const parts: string[] = [];
  PANELS.forEach(([dir, key, title], i) => {
    const series = runs.map((run) => ({
      name: run,
      pts: lines
        .filter((l) => l.run === run)
        .map((l) => [x === 'steps' ? l.step : l.trainSeconds / 60, l.dev[dir][key]] as [number, number]),
    }));
    parts.push(
      panel(
        (i % cols) * W,
        Math.floor(i / cols) * H,
        W,
        H,
        title,
        series,
        x === 'steps' ? 'training steps' : 'training wall-clock (minutes)',
      ),
    );
  });
  runs.forEach((run, k) => {
    const lx = 50 + k * 180;
    parts.push(
      `<rect x="${lx}" y="${height - 26}" width="18" height="4" fill="${COLOURS[k % COLOURS.length]}"/>`,
    );
    parts.push(`<text x="${lx + 24}" y="${height - 20}" font-size="12">${esc(run)}</text>`);
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="sans-serif" fill="#222">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`
  );
}

function main(): void {
  const { positionals } = parseCommand(PLOT);
  const [log, prefix] = positionals;
  if (!log || !prefix || positionals.length > 2)
    throw new Error('usage: npm run plot -- <log.jsonl>[,<log.jsonl>...] <out-prefix>');
  // Several logs (e.g. runs trained in separate processes) are drawn on the same axes, in the given order.
  const lines = log.split(',').flatMap((f) => readLog(f));
  mkdirSync(path.dirname(prefix), { recursive: true });
  for (const x of ['steps', 'time'] as const) {
    writeFileSync(`${prefix}-${x}.svg`, renderCurves(lines, x));
    console.log(`wrote ${prefix}-${x}.svg`);
  }
  console.log(summarize(byRun(lines)).join('\n'));
}

main();
