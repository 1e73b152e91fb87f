import type { Status } from './store';

/** A number with a fixed count of significant-ish decimals, or an em dash when not finite. */
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

/** Integers with thousands separators (1,234). */
export function fmtInt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return Math.round(x).toLocaleString('en-US');
}

export const STATUS_LABEL: Record<Status, string> = {
  connecting: 'Starting worker…',
  ready: 'Ready',
  starting: 'Building model…',
  running: 'Training',
  paused: 'Paused',
  done: 'Finished',
  error: 'Error',
  crashed: 'Worker crashed',
};

/** A run exists in the worker (the config is locked until Reset). */
export const isRunActive = (s: Status): boolean => s === 'starting' || s === 'running' || s === 'paused';

/** Start is possible: the worker is up and no run is active. */
export const canStart = (s: Status): boolean => s === 'ready' || s === 'done' || s === 'error';
