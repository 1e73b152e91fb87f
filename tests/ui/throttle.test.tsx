// @vitest-environment jsdom
import { act, cleanup, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useThrottled } from '../../src/ui/throttle';

describe('useThrottled (how often the charts redraw)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('shows the first change after its phase, then at most once per period, and always the newest value', () => {
    const { result, rerender } = renderHook(({ v }) => useThrottled(v, 500, 100), {
      initialProps: { v: 0 },
    });
    expect(result.current).toBe(0);
    rerender({ v: 1 });
    expect(result.current).toBe(0); // not in the same task as the store update
    act(() => vi.advanceTimersByTime(99));
    expect(result.current).toBe(0);
    act(() => vi.advanceTimersByTime(1));
    expect(result.current).toBe(1);

    // Ten updates within one period collapse into one redraw with the last of them.
    let renders = 0;
    for (let v = 2; v <= 11; v++) {
      rerender({ v });
      act(() => vi.advanceTimersByTime(40));
      if (result.current !== 1) renders++;
    }
    expect(result.current).toBe(1); // 400 ms after the last redraw: still inside the period
    act(() => vi.advanceTimersByTime(100));
    expect(result.current).toBe(11);
    expect(renders).toBe(0);
  });

  it('cancels its pending redraw when the chart unmounts', () => {
    const { rerender, unmount } = renderHook(({ v }) => useThrottled(v, 500), { initialProps: { v: 'a' } });
    rerender({ v: 'b' });
    unmount();
    expect(vi.getTimerCount()).toBe(0);
  });
});
