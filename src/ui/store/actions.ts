/**
 * The store itself (Zustand): the state as the page opens, worker events folded in by the reducer,
 * and the actions for what the UI starts (form edits, dataset loads, queries, crashes, imports...).
 */
import { create } from 'zustand';
import type { Measure } from '../../model/types';
import { DEFAULT_MARGIN } from './form';
import { reduceEvent } from './reducer';
import { releaseLive } from './runs';
import { emptyRetrieval, initialState, type UiStore } from './state';

export const useUiStore = create<UiStore>()((set) => ({
  ...initialState(),
  applyEvent: (event) => set((s) => reduceEvent(s, event)),
  setField: (key, value) =>
    set((s) => {
      const formErrors = { ...s.formErrors };
      delete formErrors[key];
      const form = { ...s.form, [key]: value };
      // Switching the measure moves an untouched default margin to the new measure's default.
      if (
        key === 'measure' &&
        value !== s.form.measure &&
        Number(s.form.margin) === Number(DEFAULT_MARGIN[s.form.measure])
      ) {
        form.margin = DEFAULT_MARGIN[value as Measure];
        delete formErrors.margin;
      }
      return { form, formErrors };
    }),
  setFormErrors: (formErrors) => set({ formErrors }),
  hierarchyRequested: (root) =>
    set((s) => ({ hierarchy: { ...s.hierarchy, status: 'loading', root, error: null } })),
  setRequestedBackend: (requestedBackend) => set({ requestedBackend }),
  connecting: () =>
    set((s) => ({
      status: 'connecting',
      backend: null,
      backendReason: null,
      backendThreads: null,
      threadsWhy: null,
      backendMatMul: null,
      dataset: null,
      loading: null,
      runs: releaseLive(s.runs),
      openedRunId: null,
      openingRunId: null,
      exportingRunId: null,
      importing: false,
      retrieval: emptyRetrieval(),
    })),
  crashed: (message, restarting) =>
    set((s) => ({
      status: 'crashed',
      runs: releaseLive(s.runs),
      loading: null,
      openedRunId: null,
      openingRunId: null,
      exportingRunId: null,
      importing: false,
      retrieval: { ...s.retrieval, pending: { rank: false, search: false, generality: false } },
      crash: { message, restarted: restarting },
    })),
  dismissCrash: () => set({ crash: null }),
  loadRequested: (label, pickedFiles) =>
    set((s) => ({
      loading: { label, phase: 'starting', done: 0, total: 0, imagesPerSec: 0 },
      datasetError: null,
      pickedFiles: pickedFiles === undefined ? s.pickedFiles : pickedFiles,
    })),
  loadCancelled: () => set({ loading: null }),
  pauseRequested: () => set((s) => (s.status === 'running' ? { status: 'pausing' } : {})),
  starting: () =>
    set((s) => ({
      status: 'starting',
      formErrors: {},
      errors: s.errors.filter((e) => e.phase !== 'start' && e.phase !== 'train'),
    })),
  queryRequested: (kind) =>
    set((s) => ({
      retrieval: {
        ...s.retrieval,
        pending: { ...s.retrieval.pending, [kind]: true },
        errors: { ...s.retrieval.errors, [kind]: undefined },
      },
    })),
  setQueryError: (kind, message) =>
    set((s) => ({
      retrieval: { ...s.retrieval, errors: { ...s.retrieval.errors, [kind]: message ?? undefined } },
    })),
  openRequested: (runId) => set({ openingRunId: runId, runsError: null }),
  exportRequested: (runId) => set({ exportingRunId: runId, runsError: null }),
  exportFinished: () => set({ exportingRunId: null }),
  importRequested: () => set({ importing: true, runsError: null }),
  setRunsError: (runsError) => set({ runsError, importing: false }),
  dismissNotice: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
  dismissError: (id) => set((s) => ({ errors: s.errors.filter((n) => n.id !== id) })),
}));
