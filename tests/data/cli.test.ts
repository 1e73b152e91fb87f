/**
 * The data command-line tools end to end, on a few real Flickr8k photos: prepare:flickr8k (also on a
 * folder with a broken and a missing photo), train --data <pack> --out, and evaluate --json on the pack
 * and on the raw folder. Features of the photos are cached (node_modules/.cache/orderembed), so after
 * the first run only the broken folder is encoded again.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decode } from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireSharedDir, runScript, type ScriptRun as Run } from '../helpers/shared';

const tsx = runScript;

const lastLine = (s: string) => s.trim().split('\n').at(-1)!;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'orderembed-cli-'));
const flickr = path.join(requireSharedDir(), 'data', 'flickr8k');
const pack = path.join(tmp, 'pack');
const run = path.join(tmp, 'run');
let prepared: Run;

/** A copy of a pack (manifest and features) under tmp/name, with its manifest edited. */
function packVariant(from: string, name: string, edit: (m: Record<string, unknown>) => object): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const m = JSON.parse(readFileSync(path.join(from, 'manifest.json'), 'utf8'));
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(edit(m)));
  copyFileSync(path.join(from, 'features.bin'), path.join(dir, 'features.bin'));
  return dir;
}

/** A pack's features.bin as floats. */
const packFeatures = (dir: string) =>
  new Float32Array(readFileSync(path.join(dir, 'features.bin')).buffer.slice(0));

/** The small model of these tests (train's defaults would take minutes). */
const SMALL = ['--batch', '8', '--hidden', '16', '--word-dim', '8'];

beforeAll(async () => {
  prepared = await tsx('prepare-flickr8k.ts', [flickr, '--limit', '12', '--out', pack]);
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('prepare:flickr8k', () => {
  it('writes a pack with manifest, features and 64 px thumbnails', () => {
    expect(prepared.code, prepared.stderr).toBe(0);
    expect(lastLine(prepared.stdout)).toMatch(
      /^wrote .*: 12 photos \(train 10, dev 2\), 60 captions, 1024-d mobilenet-v1-1.0-trunk features, 0 failed$/,
    );
    const m = JSON.parse(readFileSync(path.join(pack, 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({
      format: 'orderembed-pack',
      encoder: 'mobilenet-v1-1.0-trunk',
      featureDim: 1024,
      crops: 1,
      numImages: 12,
      thumbSize: 64,
      failedImages: [],
    });
    expect(readFileSync(path.join(pack, 'features.bin')).byteLength).toBe(12 * 1024 * 4);
    expect(readdirSync(path.join(pack, 'thumbs'))).toHaveLength(12);
    const t = decode(readFileSync(path.join(pack, 'thumbs', '0.jpg')));
    expect([t.width, t.height]).toEqual([64, 64]);
  });

  it('names, skips and counts undecodable and missing photos and malformed lines', async () => {
    const dir = path.join(tmp, 'broken');
    mkdirSync(path.join(dir, 'Images'), { recursive: true });
    const good = readdirSync(path.join(flickr, 'Images')).sort().slice(0, 2);
    for (const n of good) copyFileSync(path.join(flickr, 'Images', n), path.join(dir, 'Images', n));
    writeFileSync(path.join(dir, 'Images', 'bad.jpg'), 'not a jpeg at all');
    writeFileSync(
      path.join(dir, 'captions.txt'),
      [
        'image,caption',
        `${good[0]},A photo , with a comma .`,
        `${good[1]},Another photo .`,
        'bad.jpg,A broken photo .',
        'missing.jpg,Gone .',
        'oops',
      ].join('\n'),
    );
    writeFileSync(path.join(dir, 'Flickr_8k.trainImages.txt'), [...good, 'bad.jpg'].join('\n'));
    const out = path.join(tmp, 'broken-pack');
    const r = await tsx('prepare-flickr8k.ts', [
      dir,
      '--out',
      out,
      '--cache',
      path.join(tmp, 'cache'),
      '--thumb-size',
      '0',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('captions.txt:6: expected \'image,caption\', got "oops"');
    expect(r.stderr).toContain(
      '1 caption(s) of 1 image(s) not found in the image folder, skipped: missing.jpg',
    );
    expect(r.stderr).toMatch(/skipped bad\.jpg: \S*bad\.jpg: not a photo \(a text file\)/);
    expect(r.stderr).toContain('1 photo(s) could not be read or decoded and are left out: bad.jpg');
    const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(m.images).toEqual(good);
    expect(m.failedImages).toEqual(['bad.jpg']);
    expect(m.splits).toEqual({ train: [0, 1] });
    expect(existsSync(path.join(out, 'thumbs'))).toBe(false);
  }, 60_000);

  it('--jobs 2 encodes interleaved chunks in two processes into the cache, then packs the same features', async () => {
    const out = path.join(tmp, 'jobs-pack');
    const args = [flickr, '--limit', '12', '--chunk-size', '4', '--thumb-size', '0', '--out', out];
    const jobs = ['--jobs', '2', '--cache', path.join(tmp, 'jobs-cache')];
    const r = await tsx('prepare-flickr8k.ts', [...args, ...jobs]);
    expect(r.code, r.stderr).toBe(0);
    // Chunks 0 and 2 (8 photos) in job 0, chunk 1 (4 photos) in job 1; the packing pass encodes nothing.
    expect(r.stderr).toContain('[job 0] shard 0/2: 8 photos computed, 0 cached, 0 failed');
    expect(r.stderr).toContain('[job 1] shard 1/2: 4 photos computed, 0 cached, 0 failed');
    expect(r.stderr).toContain('features: 12 photos from the cache, 0 computed');
    const [a, b] = [pack, out].map(packFeatures);
    expect(b.length).toBe(a.length);
    expect(Math.max(...b.map((x, k) => Math.abs(x - a[k])))).toBeLessThan(1e-4);

    const bad = await tsx('prepare-flickr8k.ts', [...args, '--jobs', '0']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--jobs: expected a positive integer, got 0');
    const missing = await tsx('prepare-flickr8k.ts', [path.join(tmp, 'nowhere'), '--jobs', '2']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/\[job [01]\] .*nowhere/);
    expect(missing.stderr).toMatch(/job [01] of 2 failed \(exit code 1\)/);
  }, 120_000);
});

describe('train and evaluate', () => {
  let trained: Run;
  beforeAll(async () => {
    trained = await tsx('train.ts', [
      '--data',
      pack,
      '--epochs',
      '2',
      ...SMALL,
      '--eval-every',
      '1',
      '--out',
      run,
      '--json',
    ]);
  }, 60_000);

  it('train --out writes the run folder and a JSON-lines log', () => {
    expect(trained.code, trained.stderr).toBe(0);
    const final = JSON.parse(trained.stdout.trim());
    expect(final.steps).toBe(3); // ceil(2 epochs x 10 photos / batch 8)
    for (const f of ['config.json', 'codec.json', 'weights.bin', 'weights.json', 'metrics.json', 'log.jsonl'])
      expect(existsSync(path.join(run, f)), f).toBe(true);
    const log = readFileSync(path.join(run, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(log.map((e) => e.step)).toEqual([1, 2, 3]);
    expect(Object.keys(log[2]).sort()).toEqual(['dev', 'epoch', 'loss', 'seconds', 'step']);
    const config = JSON.parse(readFileSync(path.join(run, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      encoder: 'mobilenet-v1-1.0-trunk',
      dataset: 'flickr8k-limit12',
      steps: 3,
    });
  });

  it('evaluate --json ends with the metrics line, the same from the pack and from the raw folder', async () => {
    const fromPack = await tsx('evaluate.ts', ['--model', run, '--data', pack, '--json']);
    expect(fromPack.code, fromPack.stderr).toBe(0);
    const m = JSON.parse(lastLine(fromPack.stdout));
    expect(Object.keys(m)).toEqual(['i2t', 't2i', 'rsum']);
    for (const d of [m.i2t, m.t2i]) expect(Object.keys(d)).toEqual(['r1', 'r5', 'r10', 'medr', 'meanr']);
    const final = JSON.parse(trained.stdout.trim());
    expect(m).toEqual({ i2t: final.i2t, t2i: final.t2i, rsum: final.rsum });
    const fromFolder = await tsx('evaluate.ts', [
      '--model',
      run,
      '--data',
      flickr,
      '--limit',
      '12',
      '--json',
    ]);
    expect(fromFolder.code, fromFolder.stderr).toBe(0);
    expect(JSON.parse(lastLine(fromFolder.stdout))).toEqual(m);
    // An ensemble of the run with itself: doubled scores, the same ranks.
    const twice = await tsx('evaluate.ts', ['--model', `${run},${run}`, '--data', pack, '--json']);
    expect(twice.code, twice.stderr).toBe(0);
    expect(twice.stderr).toContain('an ensemble of 2');
    expect(JSON.parse(lastLine(twice.stdout))).toEqual(m);
  }, 60_000);

  it('evaluate names the available splits and a pack built with another encoder', async () => {
    const split = await tsx('evaluate.ts', ['--model', run, '--data', pack, '--split', 'test']);
    expect(split.code).toBe(1);
    expect(split.stderr).toContain("has no 'test' split (available: train, dev)");
    const other = packVariant(pack, 'other-pack', (m) => ({ ...m, encoder: 'mobilenet-v2-0.35' }));
    const enc = await tsx('evaluate.ts', ['--model', run, '--data', other]);
    expect(enc.code).toBe(1);
    expect(enc.stderr).toContain('was built with encoder mobilenet-v2-0.35, expected mobilenet-v1-1.0-trunk');
  }, 60_000);
  it('train --init fine-tunes a run (same vocabulary), with --max-violation-after; refuses another encoder', async () => {
    const tuned = await tsx('train.ts', [
      '--data',
      pack,
      '--init',
      run,
      '--steps',
      '2',
      '--batch',
      '8',
      '--lr',
      '1e-4',
      '--max-violation-after',
      '1',
      '--json',
    ]);
    expect(tuned.code, tuned.stderr).toBe(0);
    expect(tuned.stderr).toContain(`from the weights of ${run}; max-violation loss after step 1`);
    const final = JSON.parse(tuned.stdout.trim());
    // The architecture comes from the run (not train's defaults).
    expect(final.config.model).toMatchObject({ hiddenDim: 16, wordDim: 8, layerNorm: true });
    expect(final.config.train).toMatchObject({ initFrom: run, maxViolationStep: 1, learningRate: 1e-4 });
    const other = packVariant(pack, 'other-encoder-pack', (m) => ({ ...m, encoder: 'mobilenet-v2-0.35' }));
    const enc = await tsx('train.ts', ['--data', other, '--init', run, '--steps', '1']);
    expect(enc.code).toBe(1);
    expect(enc.stderr).toContain(
      `--init ${run}: the run was trained on mobilenet-v1-1.0-trunk features, the data has mobilenet-v2-0.35 features`,
    );
  }, 60_000);
  it('train --distill-from learns from an ensemble of runs; refuses another encoder and stray flags', async () => {
    const args = ['--data', pack, ...SMALL, '--steps', '2', '--json'];
    const distilled = await tsx('train.ts', [
      ...args,
      '--distill-from',
      `${run},${run}`,
      '--distill-weight',
      '2',
      '--distill-temperature',
      '0.03',
    ]);
    expect(distilled.code, distilled.stderr).toBe(0);
    expect(distilled.stderr).toContain('teacher 2/2 embedded');
    expect(distilled.stderr).toContain('distilled from an ensemble of 2 (weight 2, temperature 0.03)');
    const final = JSON.parse(distilled.stdout.trim());
    expect(final.config.train.distill).toEqual({ teachers: [run, run], weight: 2, temperature: 0.03 });
    // The distillation term changes training: the same seed without it ends with other weights.
    const outs = ['distilled-run', 'plain-run'].map((n) => path.join(tmp, n));
    await tsx('train.ts', [...args, '--distill-from', run, '--out', outs[0]]);
    await tsx('train.ts', [...args, '--out', outs[1]]);
    const [w1, w2] = outs.map((o) => readFileSync(path.join(o, 'weights.bin')));
    expect(w1.length).toBe(w2.length);
    expect(w1.equals(w2)).toBe(false);
    const other = packVariant(pack, 'other-encoder-pack-2', (m) => ({ ...m, encoder: 'mobilenet-v2-0.35' }));
    const enc = await tsx('train.ts', ['--data', other, ...SMALL, '--steps', '1', '--distill-from', run]);
    expect(enc.code).toBe(1);
    expect(enc.stderr).toContain(
      `--distill-from ${run}: the run was trained on mobilenet-v1-1.0-trunk features, the data has mobilenet-v2-0.35 features`,
    );
    const stray = await tsx('train.ts', ['--data', pack, '--steps', '1', '--distill-weight', '1']);
    expect(stray.code).toBe(1);
    expect(stray.stderr).toContain('--distill-weight and --distill-temperature need --distill-from');
  }, 60_000);
  it('train --word-vectors starts the word embedding from a vector file, and names its bad lines', async () => {
    const file = path.join(tmp, 'vectors.txt');
    writeFileSync(file, 'a 0.1 0.2 0.3\ndog 1 0 -1\nman 0 1 1\nin 0.5 0.5 0\n');
    const args = ['--data', pack, ...SMALL, '--steps', '1', '--json'];
    const r = await tsx('train.ts', [...args, '--word-vectors', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/word vectors .*vectors\.txt: [1-4] of the \d+ vocabulary words/);
    expect(JSON.parse(r.stdout.trim()).config.train.wordVectors).toBe(file);
    const bad = path.join(tmp, 'bad-vectors.txt');
    writeFileSync(bad, 'dog 1 0 -1\nman 0 one 1\n');
    const e = await tsx('train.ts', [...args, '--word-vectors', bad]);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain(`${bad}, line 2: value 2 (one) is not a number`);
    const missing = await tsx('train.ts', [...args, '--word-vectors', path.join(tmp, 'nope.txt')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such file (give glove-100d, or a GloVe text or wink JSON file)');
  }, 60_000);
  it('train --average-from exports the averaged weights and logs both evaluations', async () => {
    const out = path.join(tmp, 'averaged-run');
    const args = ['--data', pack, ...SMALL, '--steps', '4', '--eval-every', '2', '--average-from', '2'];
    const averaged = await tsx('train.ts', [...args, '--out', out, '--json']);
    expect(averaged.code, averaged.stderr).toBe(0);
    expect(averaged.stderr).toContain('weights averaged from step 2');
    expect(averaged.stderr).toContain('dev @4, mean of the weights of the last 3 steps');
    const log = readFileSync(path.join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const evals = log.filter((e) => e.dev);
    expect(evals.map((e) => e.step)).toEqual([2, 4]);
    expect(evals.every((e) => e.devTrained)).toBe(true);
    // The run folder holds the averaged weights: evaluate reproduces the averaged metrics.
    const final = JSON.parse(averaged.stdout.trim());
    expect(final.config.train.averageFromStep).toBe(2);
    const m = await tsx('evaluate.ts', ['--model', out, '--data', pack, '--json']);
    expect(m.code, m.stderr).toBe(0);
    expect(JSON.parse(lastLine(m.stdout))).toEqual(evals[1].dev);
    const late = await tsx('train.ts', ['--data', pack, ...SMALL, '--steps', '1', '--average-from', '5']);
    expect(late.code, late.stderr).toBe(0);
    expect(late.stdout).toContain(
      '--average-from 5: training ended before that step; the trained weights are kept',
    );
  }, 60_000);
  it('prepare --mirror writes the mirrored view; train --augment trains on both and checks the photos match', async () => {
    const mirror = path.join(tmp, 'mirror-pack');
    const prep = await tsx('prepare-flickr8k.ts', [
      flickr,
      '--limit',
      '12',
      '--mirror',
      '--thumb-size',
      '0',
      '--out',
      mirror,
    ]);
    expect(prep.code, prep.stderr).toBe(0);
    const m = JSON.parse(readFileSync(path.join(mirror, 'manifest.json'), 'utf8'));
    const base = JSON.parse(readFileSync(path.join(pack, 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({ name: 'flickr8k-limit12-mirror', mirror: true, images: base.images });
    const [a, b] = [pack, mirror].map(packFeatures);
    expect(b.length).toBe(a.length);
    expect(b.some((x, k) => Math.abs(x - a[k]) > 1e-3)).toBe(true);

    const args = ['--data', pack, '--steps', '2', ...SMALL, '--json'];
    const trained = await tsx('train.ts', [...args, '--augment', mirror]);
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr).toContain('augmented with 1 other view(s) of the features');
    expect(JSON.parse(trained.stdout.trim()).config.train.augment).toBe(true);

    const shuffled = packVariant(mirror, 'shuffled-pack', (v) => ({
      ...v,
      images: [...(v.images as string[])].reverse(),
    }));
    const bad = await tsx('train.ts', [...args, '--augment', shuffled]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      `--augment ${shuffled}: not the same photos as ${pack} (12 against 12; photo 0 is ${m.images[11]}, there ${m.images[0]})`,
    );
  }, 120_000);
});
