import { useEffect, useRef, useState } from 'react';
import { flushSync } from 'react-dom';

/**
 * `value` as the charts draw it: the first change shows after `offset` ms, later ones at most once per
 * `ms`, and the newest value always shows in the end (leading and trailing throttle).
 *
 * Why: the worker sends progress up to 10 times a second, and one render of all four Recharts charts
 * in one task took 50-120 ms on the 2-core test machine (layout reads, SVG path building), over the
 * 100 ms a main-thread task may take while training. Each chart passes its own `offset`, and renders
 * inside its own timer with `flushSync`, so the charts redraw in separate short tasks, a few times a
 * second, instead of together in one long one.
 */
export function useThrottled<T>(value: T, ms: number, offset = 0): T {
  const [shown, setShown] = useState(value);
  const latest = useRef(value);
  const lastShown = useRef(-Infinity);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    latest.current = value;
    if (Object.is(value, shown) || timer.current !== null) return;
    const wait = Math.max(0, lastShown.current + ms - performance.now()) + offset;
    timer.current = setTimeout(() => {
      timer.current = null;
      lastShown.current = performance.now() - offset; // keeps the period at `ms`, the phase at `offset`
      flushSync(() => setShown(() => latest.current));
    }, wait);
  }, [value, shown, ms, offset]);

  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
    },
    [],
  );
  return shown;
}
