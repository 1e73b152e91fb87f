/**
 * Checkpoints when the page goes away: on `pagehide` (reload, close, navigation) and when the tab is
 * hidden (`visibilitychange`; mobile browsers may discard a hidden tab without a pagehide), the worker
 * is asked to store the training runs' checkpoints now (src/worker/checkpoints.ts).
 */

/** Registers the listeners; returns a function that removes them. */
export function checkpointOnPageHide(client: { checkpointNow(): void }): () => void {
  if (typeof window === 'undefined' || typeof document === 'undefined') return () => undefined;
  const onHide = () => client.checkpointNow();
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') client.checkpointNow();
  };
  window.addEventListener('pagehide', onHide);
  document.addEventListener('visibilitychange', onVisibility);
  return () => {
    window.removeEventListener('pagehide', onHide);
    document.removeEventListener('visibilitychange', onVisibility);
  };
}
