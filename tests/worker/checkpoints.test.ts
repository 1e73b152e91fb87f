import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from '../../src/model/trainer';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { exportRun, importModel } from '../../src/model/export';
import { RunStore } from '../../src/worker/run-store';
import {
  Checkpointer,
  currentRunFiles,
  loadStoredCheckpoint,
  validateStoredCheckpoint,
} from '../../src/worker/checkpoints';
import type { StoredRun } from '../../src/worker/protocol';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

const ds = makeSyntheticDataset({ numImages: 80, imageDim: 12, seed: 2 });

function record(tr: Trainer, id: string): StoredRun {
  return {
    id,
    label: id,
    createdAt: '2026-01-01T00:00:00Z',
    dataset: ds.name,
    encoder: null,
    model: tr.config.model,
    train: tr.config.train,
    step: tr.stepsDone,
    epoch: 0,
    seconds: 0,
    state: 'running',
    history: [],
  };
}

describe('browser checkpoints', () => {
  it('stores a checkpoint with its record; Open/Export files made from it equal the exported weights', async () => {
    const store = new RunStore('test');
    const tr = new Trainer(ds, { wordDim: 8, hiddenDim: 16 }, { batchSize: 8, seed: 3 });
    for (let i = 0; i < 4; i++) tr.step();
    const stored = record(tr, 'r1');
    const errors: string[] = [];
    const cps = new Checkpointer(store, { evalEvery: 10, maxSteps: 0, evalImages: 0, encoder: null }, (m) =>
      errors.push(m),
    );
    await cps.take([{ stored, trainer: tr }]);
    expect(errors).toEqual([]);
    expect(stored.checkpointStep).toBe(4);
    const back = (await store.list()).runs[0];
    expect(back.checkpointStep).toBe(4);
    const sc = await loadStoredCheckpoint(await store.getCheckpoint('r1'));
    expect(sc.checkpoint.steps).toBe(4);
    // No stored files yet (a run cut off before it paused): the checkpoint gives them.
    const files = (await currentRunFiles(store, back))!;
    const fromCheckpoint = importModel(files);
    const exported = importModel(exportRun(tr).files);
    const a = fromCheckpoint.model.getWeights();
    exported.model.getWeights().forEach((w, k) => {
      expect(a[k].name).toBe(w.name);
      expect(Array.from(a[k].data)).toEqual(Array.from(w.data));
    });
    // With the run's caption codec, as exported.
    expect(JSON.parse(files['codec.json'] as string)).toEqual(tr.codec.toJSON());
    expect(fromCheckpoint.codec.toJSON()).toEqual(exported.codec.toJSON());
    fromCheckpoint.model.dispose();
    exported.model.dispose();
    // Stored files of an older step lose to the newer checkpoint; files of its step win.
    const old = exportRun(tr).files;
    const older = {
      ...old,
      'config.json': (old['config.json'] as string).replace('"steps": 4', '"steps": 2'),
    };
    expect(JSON.parse(older['config.json']).steps).toBe(2);
    await store.save({ ...back }, older);
    expect(JSON.parse((await currentRunFiles(store, back))!['config.json'] as string).steps).toBe(4);
    await store.save({ ...back }, old);
    expect((await currentRunFiles(store, back))!['weights.bin']).toBe(old['weights.bin']);
    tr.dispose();
  });

  it('a checkpoint read back resumes the run to the same losses', async () => {
    const store = new RunStore('test');
    const train = { batchSize: 8, seed: 5 };
    const whole = new Trainer(ds, { wordDim: 8, hiddenDim: 16 }, train);
    const expected = Array.from({ length: 8 }, () => whole.step().loss);
    const first = new Trainer(ds, { wordDim: 8, hiddenDim: 16 }, train);
    const head = Array.from({ length: 3 }, () => first.step().loss);
    await new Checkpointer(
      store,
      { evalEvery: 10, maxSteps: 0, evalImages: 0, encoder: null },
      () => {},
    ).take([{ stored: record(first, 'r2'), trainer: first }]);
    first.dispose();
    const sc = await loadStoredCheckpoint(await store.getCheckpoint('r2'));
    const resumed = new Trainer(ds, sc.checkpoint.model, sc.checkpoint.train);
    resumed.restore(sc.checkpoint);
    expect([...head, ...Array.from({ length: 5 }, () => resumed.step().loss)]).toEqual(expected);
    whole.dispose();
    resumed.dispose();
  });

  it('stores turn by turn while the run trains on: the tensors as Blobs, the checkpoint of the step it was taken at', async () => {
    const store = new RunStore('test');
    const train = { batchSize: 8, seed: 6 };
    const whole = new Trainer(ds, { wordDim: 8, hiddenDim: 16 }, train);
    const expected = Array.from({ length: 7 }, () => whole.step().loss);
    const live = new Trainer(ds, { wordDim: 8, hiddenDim: 16 }, train);
    for (let i = 0; i < 3; i++) live.step();
    const stored = record(live, 'r3');
    let writes = 0;
    const save = store.saveWithCheckpoint.bind(store);
    store.saveWithCheckpoint = (...args: Parameters<RunStore['saveWithCheckpoint']>) => {
      writes++;
      return save(...args);
    };
    const write = new Checkpointer(
      store,
      { evalEvery: 10, maxSteps: 0, evalImages: 0, encoder: null },
      () => {},
      undefined,
      0, // a turn before each tensor (a big model's case)
    ).take([{ stored, trainer: live }]);
    // A Resume read at the next turn: the run steps on while its checkpoint is being stored.
    let stepsDuring = 0;
    setTimeout(() => {
      live.step();
      live.step();
      stepsDuring = writes === 0 ? 2 : -1;
    }, 0);
    expect(writes).toBe(0);
    await write;
    expect(stepsDuring).toBe(2); // the steps ran before the write, in a turn it gave up
    const raw = (await store.getCheckpoint('r3')) as { checkpoint: { tensors: { data: unknown }[] } };
    expect(raw.checkpoint.tensors.every((t) => t.data instanceof Blob)).toBe(true);
    const sc = await loadStoredCheckpoint(raw);
    expect(sc.checkpoint.steps).toBe(3);
    const resumed = new Trainer(ds, sc.checkpoint.model, sc.checkpoint.train);
    resumed.restore(sc.checkpoint);
    expect(Array.from({ length: 4 }, () => resumed.step().loss)).toEqual(expected.slice(3));
    // A record stored before Blobs (arrays inline) still loads.
    const inline = {
      ...raw,
      checkpoint: { ...sc.checkpoint, tensors: sc.checkpoint.tensors.map((t) => ({ ...t })) },
    };
    expect((await loadStoredCheckpoint(inline)).checkpoint.tensors).toEqual(sc.checkpoint.tensors);
    // A Blob whose size does not match its shape is refused, naming the tensor, before it is read.
    const bad = structuredClone(raw);
    bad.checkpoint.tensors[1] = { ...raw.checkpoint.tensors[1], data: new Blob([new Float32Array(3)]) };
    await expect(loadStoredCheckpoint(bad)).rejects.toThrow(
      /tensors\[1\] 'weight\.[^']+': 12 bytes stored for shape/,
    );
    whole.dispose();
    live.dispose();
    resumed.dispose();
  });

  it('refuses a damaged checkpoint record, naming the field', async () => {
    expect(() => validateStoredCheckpoint({ runId: 'x' })).toThrow(/checkpoint record/);
    await expect(loadStoredCheckpoint({ runId: 'x' })).rejects.toThrow(/checkpoint record: checkpoint/);
  });
});
