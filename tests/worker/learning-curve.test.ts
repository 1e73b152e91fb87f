/**
 * A stored run's one learning curve: records of the old format (`loss` and `evals`) read into `history`
 * and written back, damaged old records named, and the worker's curve operations (thinning that keeps
 * every evaluated entry, an evaluation set on the entry of its step).
 */
import { describe, expect, it } from 'vitest';
import type { RunLogEntry } from '../../src/model/export';
import { validateStoredRun } from '../../src/worker/run-records';
import { RunStore } from '../../src/worker/run-store';
import { appendCurve, thinCurve, withEvaluation } from '../../src/worker/learning-curve';
import type { StoredRun } from '../../src/worker/protocol';
import { MODEL, TRAIN, metrics } from '../ui/fake-worker';

/**
 * A record as the worker stored it before `history` (the shape of a real one: a run stopped at step 7,
 * its loss curve thinned, evaluated at 0, 4 and 6; the diverged step 5 kept its infinite loss).
 */
function oldRecord(id: string): Record<string, unknown> {
  return {
    id,
    label: 'LN-GRU, scenes-200, 14:03',
    createdAt: '2026-03-01T14:03:00.000Z',
    dataset: 'scenes-200',
    encoder: 'centernet-mb3',
    model: { ...MODEL },
    train: { ...TRAIN },
    step: 7,
    epoch: 1,
    seconds: 1.5,
    state: 'stopped',
    loss: [
      { step: 1, loss: 2 },
      { step: 3, loss: 1.5 },
      { step: 5, loss: Infinity },
      { step: 6, loss: 0.9 },
      { step: 7, loss: 0.8 },
    ],
    evals: [
      { step: 0, seconds: 0, metrics: metrics(1) },
      { step: 4, seconds: 0.8, metrics: metrics(5) },
      { step: 6, seconds: 1.3, metrics: metrics(9) },
    ],
    checkpointStep: 7,
  };
}

/** The old record's curve as one list, entry by entry. */
const CONVERTED: RunLogEntry[] = [
  { step: 0, epoch: 0, seconds: 0, loss: NaN, dev: metrics(1) },
  { step: 1, epoch: 0, seconds: 0, loss: 2 },
  { step: 3, epoch: 0, seconds: 0, loss: 1.5 },
  { step: 4, epoch: 0, seconds: 0.8, loss: NaN, dev: metrics(5) },
  { step: 5, epoch: 0, seconds: 0.8, loss: Infinity },
  { step: 6, epoch: 0, seconds: 1.3, loss: 0.9, dev: metrics(9) },
  { step: 7, epoch: 1, seconds: 1.5, loss: 0.8 },
];

describe('stored runs of the old format', () => {
  it('are read with their loss points and evaluations merged into one history, entry by entry', () => {
    const run = validateStoredRun(oldRecord('old'));
    expect(run).not.toHaveProperty('loss');
    expect(run).not.toHaveProperty('evals');
    expect(run.history).toHaveLength(CONVERTED.length);
    run.history.forEach((e, i) => expect(e, `history[${i}]`).toEqual(CONVERTED[i]));
    expect({ ...run, history: [] }).toEqual({
      ...oldRecord('old'),
      loss: undefined,
      evals: undefined,
      history: [],
    });
  });

  it('are listed converted and written back in the new format, nothing lost', async () => {
    const store = new RunStore('test-old-format');
    await store.save(oldRecord('old') as unknown as StoredRun);
    const { runs, damaged } = await store.list();
    expect(damaged).toEqual([]);
    expect(runs.map((r) => r.history)).toEqual([CONVERTED]);
    const raw = (await store.getRaw('old')) as Record<string, unknown>;
    expect(raw.loss).toBeUndefined();
    expect(raw.history).toEqual(CONVERTED);
    expect(await store.get('old')).toEqual(runs[0]);
  });

  it('a damaged one is still listed damaged, naming the field, and not rewritten', async () => {
    const store = new RunStore('test-old-damaged');
    const bad = oldRecord('bad');
    (bad.evals as { metrics: unknown }[])[1].metrics = { i2t: 'none' };
    const badLoss = oldRecord('bad-loss');
    (badLoss.loss as { step: unknown }[])[2].step = -1;
    await store.save(oldRecord('good') as unknown as StoredRun);
    await store.save(bad as unknown as StoredRun);
    await store.save(badLoss as unknown as StoredRun);
    const { runs, damaged } = await store.list();
    expect(runs.map((r) => r.id)).toEqual(['good']);
    expect(damaged.map((d) => d.id)).toEqual(['bad', 'bad-loss']);
    expect(damaged[0].reason).toMatch(/^run bad: evals\[1\]\.metrics\.i2t/);
    expect(damaged[1].reason).toMatch(/^run bad-loss: loss\[2\]\.step/);
    expect(await store.getRaw('bad')).toEqual(bad);
  });

  it('a record of the new format names a damaged history entry', () => {
    const r = { ...oldRecord('new'), loss: undefined, evals: undefined, history: structuredClone(CONVERTED) };
    expect(validateStoredRun(r).history).toEqual(CONVERTED);
    r.history[3] = { ...CONVERTED[3], seconds: -1 };
    expect(() => validateStoredRun(r)).toThrow(/^run new: history\[3\]\.seconds/);
    const { history: _, ...none } = r;
    expect(() => validateStoredRun(none)).toThrow(/^run new: history: expected an array/);
  });
});

const entry = (step: number, dev?: number): RunLogEntry => ({
  step,
  epoch: 0,
  seconds: step / 10,
  loss: 1 / step,
  ...(dev === undefined ? {} : { dev: metrics(dev) }),
});

describe('the worker’s curve', () => {
  it('thins every other entry without metrics, never an evaluated one, keeping the first and the last', () => {
    const curve = Array.from({ length: 10 }, (_, i) => entry(i + 1, i === 3 || i === 4 ? i : undefined));
    expect(thinCurve(curve, 9)).toBe(curve); // 8 entries without metrics: under the limit
    expect(thinCurve(curve, 8).map((e) => e.step)).toEqual([1, 3, 4, 5, 7, 9, 10]);
    const long = appendCurve(
      [],
      Array.from({ length: 2500 }, (_, i) => entry(i + 1, i % 100 === 0 ? 1 : undefined)),
    );
    expect(long.filter((e) => e.dev).map((e) => e.step)).toEqual(
      Array.from({ length: 25 }, (_, k) => 100 * k + 1),
    );
    expect(long.length).toBeLessThan(1300);
    expect(long.at(-1)?.step).toBe(2500);
  });

  it('sets an evaluation on the entry of its step, or adds one in step order', () => {
    const curve = [entry(1), entry(2), entry(4)];
    const at2 = withEvaluation(curve, { step: 2, seconds: 0.2, dev: metrics(3) }, 0);
    expect(at2).toEqual([entry(1), entry(2, 3), entry(4)]);
    expect(curve[1].dev).toBeUndefined(); // a new list, the old one unchanged
    // Again at the same step: replaces the metrics (devTrained of the earlier one too).
    const twice = withEvaluation(
      withEvaluation(curve, { step: 2, seconds: 0.2, dev: metrics(3), devTrained: metrics(2) }, 0),
      { step: 2, seconds: 0.2, dev: metrics(4) },
      0,
    );
    expect(twice[1]).toEqual(entry(2, 4));
    const first = withEvaluation([], { step: 0, seconds: 0, dev: metrics(1) }, 0);
    expect(first).toEqual([{ step: 0, epoch: 0, seconds: 0, loss: NaN, dev: metrics(1) }]);
    const between = withEvaluation(curve, { step: 3, seconds: 0.3, dev: metrics(2) }, 1);
    expect(between.map((e) => e.step)).toEqual([1, 2, 3, 4]);
    expect(between[2]).toEqual({ step: 3, epoch: 1, seconds: 0.3, loss: NaN, dev: metrics(2) });
  });
});
