/**
 * UI state: only what the page shows. The worker is the source of truth for training, datasets and
 * stored runs; the store folds its events into chart histories, summaries and messages, and the client
 * (../client.ts) calls its actions for what the UI itself starts. Components import from here.
 *
 * - ./state.ts      the state's shape and the state as the page opens
 * - ./runs.ts       chart views of runs: loss histories, evaluation rows, stored runs, summaries
 * - ./reducer.ts    the pure reducer: one worker event, one state change
 * - ./actions.ts    the Zustand store (`useUiStore`) and its actions
 * - ./selectors.ts  what can be queried or started, series names
 * - ./form.ts       the Train form: values, defaults, parsing, 'start' options
 */
export * from './state';
export * from './runs';
export * from './reducer';
export * from './actions';
export * from './selectors';
export * from './form';
