import type { Status } from './store';

/** A number with fixed decimals, or an em dash when not finite. */
export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return x.toFixed(digits);
}

/** A value with precision that suits its magnitude: 0.0421, 1.234, 71.73, 388.2, 12,345. */
export function fmtAuto(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a >= 1000) return fmtInt(x);
  return x.toFixed(a >= 100 ? 1 : a >= 10 ? 2 : a >= 1 ? 3 : 4);
}

/** Short axis tick label: 3 significant digits, thousands compacted (1.2k). */
export function fmtTick(x: number): string {
  if (!Number.isFinite(x)) return '';
  if (Math.abs(x) >= 1000) return `${Number((x / 1000).toPrecision(3))}k`;
  return String(Number(x.toPrecision(3)));
}

// One formatter for all: toLocaleString builds a new one per call, which showed in profiles of live charts.
const INT_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Integers with thousands separators (1,234). */
export function fmtInt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return INT_FORMAT.format(Math.round(x));
}

/** Seconds as 2.5 s, 42 s, 3:07, 1:02:03. */
export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 10 && seconds > 0 && !Number.isInteger(seconds)) return `${seconds.toFixed(1)} s`;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** What the status means, for the status badge's title. */
export const STATUS_HINT: Record<Status, string> = {
  connecting: 'Starting the training worker…',
  ready: 'Ready to train',
  starting: 'Building the model…',
  running: 'Training',
  pausing: 'Pausing: the step in progress stops, unapplied (it is taken again on Resume)',
  paused: 'Paused',
  done: 'The runs reached their step limit',
  stopped: 'The runs stopped on an error',
  crashed: 'The training worker crashed',
};

/**
 * A retrieval score for display: the order-violation energy (>= 0, lower is better; the worker's scores
 * are -E) or the cosine similarity as it is.
 */
export function fmtScore(score: number, cosine: boolean): string {
  return fmtAuto(cosine ? score : Math.abs(score));
}
