/**
 * The worker service (src/worker/service.ts) driven in Node, as the worker script drives it: the real
 * tfjs wasm backend, the built-in scenes pack (public/scenes, served by a stubbed fetch), real training
 * steps, and the run store's in-memory fallback. Events are collected from the host's `post`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { wasmDir } from '../../scripts/lib/node-backend';
import { importModel } from '../../src/model/export';
import { Retriever } from '../../src/model/retrieval';
import { WorkerService } from '../../src/worker/service';
import { RunStore } from '../../src/worker/run-store';
import type { StartOptions, StoredRun, WorkerEvent } from '../../src/worker/protocol';

const BASE = 'http://page.test/';
const PUBLIC = path.resolve(__dirname, '../../public');

/** Serves public/scenes/ (the prebuilt pack); anything else (the starter, WordNet) is a 404. */
async function servePublic(url: string | URL): Promise<Response> {
  const u = String(url);
  if (!u.startsWith(`${BASE}scenes/`)) return new Response('not found', { status: 404 });
  try {
    return new Response(await readFile(path.join(PUBLIC, u.slice(BASE.length))));
  } catch {
    return new Response('not found', { status: 404 });
  }
}

type Ev<T extends WorkerEvent['type']> = Extract<WorkerEvent, { type: T }>;

const events: WorkerEvent[] = [];
const of = <T extends WorkerEvent['type']>(type: T): Ev<T>[] =>
  events.filter((e): e is Ev<T> => e.type === type);
/** Waits (up to `ms`) for an event of `type` posted after `from` (an index into `events`). */
async function next<T extends WorkerEvent['type']>(
  type: T,
  from: number,
  ms = 60_000,
  pred: (e: Ev<T>) => boolean = () => true,
): Promise<Ev<T>> {
  let found: Ev<T> | undefined;
  await vi.waitFor(
    () => {
      found = events.slice(from).find((e): e is Ev<T> => e.type === type && pred(e as Ev<T>));
      if (!found) throw new Error(`no '${type}' event yet`);
    },
    { timeout: ms, interval: 20 },
  );
  return found!;
}
const lastStep = (runId: string): number =>
  of('progress')
    .flatMap((e) => e.runs)
    .filter((r) => r.runId === runId)
    .at(-1)?.step ?? -1;

const service = new WorkerService({
  post: (e) => events.push(e),
  baseUrl: () => BASE,
  store: new RunStore('service-test'),
});

const options = (id: string, extra: Partial<StartOptions> = {}): StartOptions => ({
  runs: [
    {
      id,
      label: `run ${id}`,
      model: { wordDim: 16, hiddenDim: 16 },
      train: { batchSize: 16, seed: 5 },
    },
  ],
  evalEvery: 4,
  maxSteps: 0,
  evalImages: 20,
  checkpointSeconds: 0.05,
  ...extra,
});

beforeAll(async () => {
  vi.stubGlobal('fetch', servePublic);
  expect(await service.init('wasm', wasmDir())).toBe(true);
  const from = events.length;
  await service.loadDataset({ kind: 'scenes' });
  await next('datasetLoaded', from, 1000);
}, 120_000);

afterAll(async () => {
  await service.reset();
  vi.unstubAllGlobals();
});

describe('WorkerService: backend and dataset', () => {
  it('reports the backend it set up, and the scenes pack it loaded', () => {
    const ready = of('ready')[0];
    expect(ready.backend).toBe('wasm');
    expect(ready.reason).toMatch(/wasm/);
    const info = of('datasetLoaded')[0].dataset;
    expect(info.kind).toBe('scenes');
    expect(info.numImages).toBe(1200);
    expect(info.splits.dev).toBeGreaterThan(0);
    expect(info.encoder).toBe('mobilenet-v1-1.0-trunk');
    expect(of('error')).toEqual([]);
  });

  it('names the problem of a dataset that cannot load, and keeps the loaded one', async () => {
    const from = events.length;
    await service.loadDataset({ kind: 'pack', url: `${BASE}packs/missing` });
    const err = events.slice(from).find((e) => e.type === 'error') as Ev<'error'>;
    expect(err.phase).toBe('dataset');
    expect(err.message).toMatch(/manifest.*packs\/missing.*HTTP 404/);
    expect(service.loaded?.info.name).toBe(of('datasetLoaded')[0].dataset.name);
  });
});

describe('WorkerService: a training session', () => {
  it('starts, streams progress and metrics, pauses (nothing moves), resumes where it stopped', async () => {
    const from = events.length;
    const mark = from;
    await service.start(options('a'));
    const started = await next('started', from, 1000);
    expect(started.runs.map((r) => r.id)).toEqual(['a']);
    expect(started.runs[0].model.hiddenDim).toBe(16);
    expect(started.evalSplit).toBe('dev');
    // Chance-level metrics before the first step, then at every 4th step.
    const m0 = await next('metrics', from);
    expect(m0.point.step).toBe(0);
    await next('metrics', from, 60_000, (e) => e.point.step === 4);
    await vi.waitFor(() => expect(lastStep('a')).toBeGreaterThanOrEqual(6), { timeout: 60_000 });
    // Loss points arrive in order, one per step, none missed.
    const points = of('progress').flatMap((e) => e.runs.flatMap((r) => r.points));
    expect(points.map((p) => p.step)).toEqual(points.map((_, i) => i + 1));
    expect(points.every((p) => Number.isFinite(p.loss))).toBe(true);

    const beforePause = events.length;
    await service.pause();
    const paused = await next('paused', beforePause, 1000);
    const runsAfterPause = await next('runs', beforePause, 1000);
    expect(runsAfterPause.runs.find((r) => r.id === 'a')?.state).toBe('paused');
    await new Promise((ok) => setTimeout(ok, 300));
    // Nothing trains while paused: no step beyond the one 'paused' named.
    expect(lastStep('a')).toBe(paused.step);
    // (Pause itself flushes the points before 'paused'; none come after it.)
    expect(events.slice(events.indexOf(paused)).filter((e) => e.type === 'progress')).toEqual([]);

    const beforeResume = events.length;
    service.resume();
    expect((await next('resumed', beforeResume, 1000)).step).toBe(paused.step);
    const moved = await next('progress', beforeResume);
    expect(moved.runs[0].points[0].step).toBe(paused.step + 1);
    expect(events.slice(mark).filter((e) => e.type === 'error')).toEqual([]);
  }, 120_000);

  it('answers queries with the live run: ranked distinct dev images, generality, unknown words', async () => {
    const from = events.length;
    await service.searchImages('a', 'a red circle zzqx', 5);
    const res = (await next('imageResults', from, 1000)) as Ev<'imageResults'>;
    expect(res.items).toHaveLength(5);
    expect(new Set(res.items.map((h) => h.image)).size).toBe(5);
    const scores = res.items.map((h) => h.score);
    expect(scores).toEqual([...scores].sort((x, y) => y - x));
    expect(res.total).toBe(of('datasetLoaded')[0].dataset.splits.dev);
    expect(res.unknown).toEqual(['zzqx']);

    // Generality on fixed weights (paused), so that three queries see the same model.
    const beforePause = events.length;
    await service.pause();
    await next('paused', beforePause, 1000);
    const [long, short] = ['a red circle above a blue square', 'a circle'];
    const ask = async (a: string, b: string) => {
      const at = events.length;
      await service.compareSentences('a', a, b);
      return next('generality', at, 1000);
    };
    const g = await ask(long, short);
    expect([g.a, g.b]).toEqual([long, short]);
    expect(g.eAB + g.eBA).toBeGreaterThan(0); // two different sentences
    // They are E(long, short) and E(short, long) of the run's model, in that order: the same
    // energies from the run's exported files through the model core's Retriever.
    const atExport = events.length;
    await service.exportRun('a');
    const files = (await next('exported', atExport, 1000)).files;
    const imported = importModel(files);
    const core = await new Retriever(imported.model, imported.codec, null).generality(long, short);
    imported.model.dispose();
    expect(g.eAB).toBeCloseTo(core.eAB, 5);
    expect(g.eBA).toBeCloseTo(core.eBA, 5);
    // Swapped sentences swap the two energies and the verdict: the service keeps A and B apart.
    const swapped = await ask(short, long);
    expect(swapped.eAB).toBeCloseTo(g.eBA, 6);
    expect(swapped.eBA).toBeCloseTo(g.eAB, 6);
    const mirror = { 'a-more-general': 'b-more-general', 'b-more-general': 'a-more-general' } as const;
    expect(swapped.verdict).toBe(mirror[g.verdict as keyof typeof mirror] ?? g.verdict);
    // A sentence against itself violates nothing either way: equivalent.
    const self = await ask(long, long);
    expect(self.eAB).toBeCloseTo(0, 6);
    expect(self.eBA).toBeCloseTo(0, 6);
    expect(self.verdict).toBe('equivalent');
    const beforeResume = events.length;
    service.resume();
    await next('resumed', beforeResume, 1000);
  }, 60_000);

  it('refuses what it cannot do, naming the culprit', async () => {
    await expect(service.searchImages('nope', 'a circle', 5)).rejects.toThrow(/run nope has no stored model/);
    await expect(service.deleteRun('a')).rejects.toThrow(/training cannot be deleted/);
    await expect(service.renameRun('a', '   ')).rejects.toThrow(/cannot be empty/);
    await expect(service.resumeRun('nope')).rejects.toThrow(/no stored run nope/);
  }, 60_000);

  it('resets: the run is stored stopped with its curves, and opens, exports and imports from the library', async () => {
    // resumeRun('nope') above stopped run a; start again and let it take a few steps.
    let from = events.length;
    await service.start(options('b'));
    await vi.waitFor(() => expect(lastStep('b')).toBeGreaterThanOrEqual(3), { timeout: 60_000 });
    from = events.length;
    await service.reset();
    await next('reset', from, 1000);
    const listing = of('runs').at(-1)!;
    const b = listing.runs.find((r) => r.id === 'b') as StoredRun;
    expect(b.state).toBe('stopped');
    expect(b.step).toBeGreaterThanOrEqual(3);
    // One curve: the evaluation before the first step (no loss), then an entry per step, in order.
    expect(b.history.map((e) => e.step)).toEqual(b.history.map((_, i) => i));
    expect(b.history[0].loss).toBeNaN();
    expect(b.history[0].dev?.rsum).toBeGreaterThanOrEqual(0);
    const trained = b.history.slice(1);
    expect(trained.every((e) => Number.isFinite(e.loss) && e.epoch === 0)).toBe(true);
    expect(trained.every((e, i) => e.seconds > 0 && e.seconds >= (trained[i - 1]?.seconds ?? 0))).toBe(true);
    expect(trained.at(-1)?.seconds).toBeCloseTo(b.seconds, 6);

    await service.renameRun('b', 'renamed b');
    expect(
      of('runs')
        .at(-1)!
        .runs.find((r) => r.id === 'b')?.label,
    ).toBe('renamed b');

    from = events.length;
    await service.openRun('b');
    expect((await next('runOpened', from, 1000)).run.id).toBe('b');
    await service.searchImages('b', 'a circle', 3);
    expect((await next('imageResults', from, 1000)).items).toHaveLength(3);

    await service.exportRun('b');
    const exported = await next('exported', from, 1000);
    expect(Object.keys(exported.files)).toEqual(
      expect.arrayContaining(['config.json', 'weights.json', 'weights.bin', 'codec.json']),
    );
    expect(JSON.parse(exported.files['config.json'] as string).model.hiddenDim).toBe(16);

    from = events.length;
    await service.importRun(exported.files, 'copy of b');
    const imported = of('runs')
      .at(-1)!
      .runs.filter((r) => r.label === 'copy of b');
    expect(imported).toHaveLength(1);
    expect(imported[0].step).toBe(b.step);
    expect(
      events.slice(from).some((e) => e.type === 'notice' && /Imported run 'copy of b'/.test(e.message)),
    ).toBe(true);

    const broken = { ...exported.files, 'config.json': '{"model": 3' };
    await expect(service.importRun(broken, 'broken')).rejects.toThrow(/config\.json/);

    await service.deleteRun(imported[0].id);
    expect(
      of('runs')
        .at(-1)!
        .runs.some((r) => r.id === imported[0].id),
    ).toBe(false);
  }, 120_000);

  it('finishes at maxSteps, and resumes a stored run from its checkpoint with the same losses', async () => {
    const mark = events.length;
    let from = events.length;
    await service.start(options('c', { maxSteps: 30 }));
    const done = await next('done', from, 90_000);
    expect(done.step).toBe(30);
    const c = of('runs')
      .at(-1)!
      .runs.find((r) => r.id === 'c') as StoredRun;
    expect(c.state).toBe('done');
    expect(c.step).toBe(30);

    // A twin paused after a few steps and reset: resumed from its checkpoint, its next steps are c's.
    from = events.length;
    await service.start(options('d'));
    await vi.waitFor(() => expect(lastStep('d')).toBeGreaterThanOrEqual(4), { timeout: 60_000 });
    await service.pause();
    await service.reset();
    const d = of('runs')
      .at(-1)!
      .runs.find((r) => r.id === 'd') as StoredRun;
    expect(d.state).toBe('stopped');
    expect(d.checkpointStep).toBe(d.step);
    expect(d.step).toBeLessThan(27);
    from = events.length;
    await service.resumeRun('d');
    const started = await next('started', from, 1000);
    expect(started.runs[0].resumed?.step).toBe(d.step);
    expect(events.slice(from).some((e) => e.type === 'notice' && /Resumed run/.test(e.message))).toBe(true);
    await vi.waitFor(() => expect(lastStep('d')).toBeGreaterThanOrEqual(d.step + 3), { timeout: 60_000 });
    await service.reset();
    const resumedPoints = events
      .slice(from)
      .flatMap((e) => (e.type === 'progress' ? e.runs.flatMap((r) => r.points) : []))
      .filter((p) => p.step <= 30);
    expect(resumedPoints[0].step).toBe(d.step + 1);
    expect(resumedPoints.length).toBeGreaterThanOrEqual(3);
    const cLoss = new Map(c.history.map((e) => [e.step, e.loss]));
    for (const p of resumedPoints) expect(p.loss).toBeCloseTo(cLoss.get(p.step)!, 4);
    expect(events.slice(mark).filter((e) => e.type === 'error')).toEqual([]);
  }, 180_000);

  it('gives a comparison up without reading its backend (a lost device), then both runs go on from their checkpoints', async () => {
    const two: StartOptions = {
      ...options('e'),
      runs: [
        ...options('e').runs,
        { ...options('f').runs[0], model: { wordDim: 16, hiddenDim: 16, layerNorm: false } },
      ],
    };
    await service.start(two);
    await vi.waitFor(() => expect(Math.min(lastStep('e'), lastStep('f'))).toBeGreaterThanOrEqual(6), {
      timeout: 60_000,
    });
    const { runs: ids, was } = await service.training.abandon();
    expect(was).toBe('training');
    expect(ids.sort()).toEqual(['e', 'f']);
    expect(service.training.active).toBe(false);
    const stored = (await service.store.list()).runs.filter((r) => r.id === 'e' || r.id === 'f');
    expect(stored.map((r) => r.state)).toEqual(['stopped', 'stopped']);
    const from = events.length;
    await service.training.resumeStoredRuns(ids);
    const started = await next('started', from, 5000);
    expect(started.runs.map((r) => r.id).sort()).toEqual(['e', 'f']);
    for (const r of started.runs) {
      const at = stored.find((x) => x.id === r.id)!.checkpointStep!;
      expect(r.resumed?.step).toBe(at);
      await vi.waitFor(() => expect(lastStep(r.id)).toBeGreaterThan(at + 2), { timeout: 60_000 });
    }
    await service.reset();
    expect(events.slice(from).filter((e) => e.type === 'error')).toEqual([]);
  }, 180_000);

  it('gives a paused run up (a lost device), brings it back paused at its pause, and Resume continues it', async () => {
    await service.start(options('g'));
    await vi.waitFor(() => expect(lastStep('g')).toBeGreaterThanOrEqual(5), { timeout: 60_000 });
    const beforePause = events.length;
    await service.pause();
    const pausedAt = (await next('paused', beforePause, 1000)).step;
    const { runs: ids, was } = await service.training.abandon();
    expect(was).toBe('paused');
    expect(ids).toEqual(['g']);
    const from = events.length;
    await service.training.resumeStoredRuns(ids, { paused: true });
    expect((await next('started', from, 5000)).runs[0].resumed?.step).toBe(pausedAt);
    expect((await next('paused', from, 1000)).step).toBe(pausedAt);
    expect(
      events.slice(from).some((e) => e.type === 'notice' && /back at step \d+, paused/.test(e.message)),
    ).toBe(true);
    expect((await service.store.get('g'))?.state).toBe('paused');
    await new Promise((ok) => setTimeout(ok, 300));
    expect(events.slice(from).filter((e) => e.type === 'progress')).toEqual([]); // nothing trains
    const beforeResume = events.length;
    service.resume();
    expect((await next('resumed', beforeResume, 1000)).step).toBe(pausedAt);
    expect((await next('progress', beforeResume)).runs[0].points[0].step).toBe(pausedAt + 1);
    await service.reset();
    expect(events.slice(from).filter((e) => e.type === 'error')).toEqual([]);
  }, 180_000);
});
