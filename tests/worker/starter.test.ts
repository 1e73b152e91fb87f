import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { exportRun, serializeWeights } from '../../src/model/export';
import { makeSyntheticDataset } from '../../src/model/synthetic';
import { Trainer } from '../../src/model/trainer';
import { disposeStarter, loadStarter } from '../../src/worker/starter';
import {
  forgetStarter,
  galleryPhotoKey,
  starterRetriever,
  typedCandidates,
  type PhotosContext,
} from '../../src/worker/photos';
import type { PhotosEvent } from '../../src/worker/photos-protocol';
import { generalityVerdict } from '../../src/worker/protocol';
import { initialPhotosState, reducePhotos } from '../../src/ui/retrieve/photos-store';
import { useBackend } from '../helpers/tf';

beforeAll(() => useBackend('wasm'));

const BASE = 'http://page.test/';

/** A server holding `files` under starter/; anything else is the SPA's index page or a 404. */
function server(files: Record<string, string | ArrayBuffer>, missing: 'html' | '404' = '404') {
  return async (url: string): Promise<Response> => {
    const name = url.replace(`${BASE}starter/`, '');
    const body = files[name];
    if (body === undefined)
      return missing === 'html'
        ? new Response('<!doctype html><html></html>', { headers: { 'content-type': 'text/html' } })
        : new Response('not found', { status: 404 });
    return new Response(body);
  };
}

describe('loadStarter', () => {
  const ds = makeSyntheticDataset({ numImages: 60, imageDim: 8, seed: 2 });
  let files: Record<string, string | ArrayBuffer>;
  beforeAll(() => {
    const t = new Trainer(ds, { wordDim: 8, hiddenDim: 8 }, { batchSize: 8, seed: 1 });
    t.step();
    files = exportRun(t, { encoder: 'mobilenet-v1-1.0-trunk', dataset: 'flickr8k' }).files;
    // As make-starter writes it: float16 weights.
    const json = JSON.parse(files['weights.json'] as string);
    const f32 = new Float32Array(files['weights.bin'] as ArrayBuffer);
    const weights = json.weights.map((w: { name: string; shape: number[]; offset: number }) => ({
      name: w.name,
      shape: w.shape,
      data: f32.subarray(w.offset / 4, w.offset / 4 + w.shape.reduce((a, b) => a * b, 1)),
    }));
    const packed = serializeWeights(weights, 'float16');
    files['weights.json'] = JSON.stringify(packed.manifest);
    files['weights.bin'] = packed.bytes;
    files['caption-bank.txt'] = `# bank\n${ds.captions[0].text}\n${ds.captions[1].text}\n`;
    t.dispose();
  });

  it('opens the float16 starter with its bank, reporting progress; a missing calibration is a note', async () => {
    const events: PhotosEvent[] = [];
    const s = await loadStarter(BASE, (e) => events.push(e), server(files));
    expect(s).not.toBeNull();
    const loadedEv = events.at(-1)!;
    expect(loadedEv.kind).toBe('starterLoaded');
    if (loadedEv.kind !== 'starterLoaded') return;
    expect(loadedEv.starter).toMatchObject({
      id: 'starter',
      dataset: 'flickr8k',
      encoder: 'mobilenet-v1-1.0-trunk',
    });
    expect(loadedEv.bank).toEqual({ file: 'starter/caption-bank.txt', sentences: 2 });
    expect(loadedEv.problems.join()).toMatch(/starter\/calibration.json: missing/);
    const progress = events.filter((e) => e.kind === 'starterProgress');
    expect(progress.at(-1)).toMatchObject({ loaded: (files['weights.bin'] as ArrayBuffer).byteLength });
    expect(s!.retriever.dataset).toBeNull();
    disposeStarter(s);
  });

  describe("the starter's scale of which sentence is more general", () => {
    afterEach(() => {
      forgetStarter();
      vi.unstubAllGlobals();
    });
    const ctx: PhotosContext = {
      post: () => undefined,
      baseUrl: () => BASE,
      ensureBackend: () => Promise.resolve(true),
      loaded: () => null,
      runRetriever: () => Promise.reject(new Error('no runs here')),
      isLive: () => false,
    };
    // A bank at several levels of detail ("a heart", "a small white heart"): pairs to measure on.
    const bank = () => `# bank\n${[...new Set(ds.captions.map((c) => c.text))].join('\n')}\n`;

    it('is measured on the caption bank, once, when calibration.json has none', async () => {
      vi.stubGlobal('fetch', server({ ...files, 'caption-bank.txt': bank() }));
      const q = await starterRetriever(ctx, false);
      expect(q.calibration).toBeNull();
      const g = await q.generality();
      expect(g).not.toBeNull();
      expect(g!.near).toBeGreaterThan(0);
      expect(g!.far).toBeGreaterThanOrEqual(g!.near);
      expect(g!.asymmetry).toBeGreaterThan(0);
      expect(await q.generality()).toBe(g); // kept, not measured again
    });

    it("is calibration.json's when the file has one", async () => {
      const stats = { median: 0.2, p90: 0.3, p99: 0.4, count: 10 };
      const generality = { near: 0.05, far: 0.5, asymmetry: 0.1 };
      const calibration = {
        format: 'orderembed-calibration',
        version: 1,
        dataset: 'flickr8k',
        split: 'dev',
        images: 10,
        matching: stats,
        bestOther: stats,
        random: stats,
        nothingFits: 0.4,
        generality,
      };
      vi.stubGlobal(
        'fetch',
        server({ ...files, 'caption-bank.txt': bank(), 'calibration.json': JSON.stringify(calibration) }),
      );
      const q = await starterRetriever(ctx, false);
      expect(await q.generality()).toEqual(generality);
    });
  });

  it('names the missing or corrupt file and resolves to null', async () => {
    for (const [broken, missing, pattern] of [
      [{ 'weights.bin': undefined }, '404', /starter\/weights.bin: missing \(HTTP 404/],
      [{ 'config.json': undefined }, 'html', /starter\/config.json: missing \(the server sent a web page/],
      [
        { 'weights.json': '{"format": "orderembed-weights", ' },
        '404',
        /starter\/weights.json: not valid JSON/,
      ],
      [{ 'weights.bin': new ArrayBuffer(10) }, '404', /starter\/weights.bin: weight '.*' .* needs bytes/],
      [
        { 'codec.json': '{"format": "orderembed-caption-codec", "version": 1, "tokenizer": "words-v1"}' },
        '404',
        /starter\/codec.json: maxLength: expected a whole number from 1 to 200, got nothing/,
      ],
    ] as const) {
      const f = { ...files, ...broken } as Record<string, string | ArrayBuffer>;
      for (const k of Object.keys(f)) if (f[k] === undefined) delete f[k];
      const events: PhotosEvent[] = [];
      expect(await loadStarter(BASE, (e) => events.push(e), server(f, missing))).toBeNull();
      const last = events.at(-1)!;
      expect(last.kind).toBe('failed');
      if (last.kind === 'failed') {
        expect(last.query).toBe('starter');
        expect(last.message).toMatch(pattern);
        expect(last.message).toMatch(/Everything else still works/);
      }
    }
  });

  it('opens a starter made before codecs (no codec.json) with the codec its config.json implies', async () => {
    const withCodec = await loadStarter(BASE, () => {}, server(files));
    for (const missing of ['404', 'html'] as const) {
      const f = { ...files };
      delete f['codec.json'];
      const s = await loadStarter(BASE, () => {}, server(f, missing));
      expect(s).not.toBeNull();
      expect(s!.retriever.codec.toJSON()).toEqual(withCodec!.retriever.codec.toJSON());
      expect(s!.retriever.codec.maxLength).toBe(JSON.parse(files['config.json'] as string).train.maxLength);
      disposeStarter(s);
    }
    disposeStarter(withCodec);
  });

  it('keeps the starter when the caption bank is missing, naming the file', async () => {
    const f = { ...files };
    delete f['caption-bank.txt'];
    const events: PhotosEvent[] = [];
    const s = await loadStarter(BASE, (e) => events.push(e), server(f, 'html'));
    expect(s).not.toBeNull();
    const last = events.at(-1)!;
    expect(last.kind === 'starterLoaded' && last.bank).toEqual({
      file: 'starter/caption-bank.txt',
      error: 'starter/caption-bank.txt: missing (the server sent a web page in its place)',
    });
    disposeStarter(s);
  });
});

describe('own-photo requests and their state', () => {
  it('refuses an empty candidate list and keys gallery photos by path, size, time and encoder', () => {
    expect(() => typedCandidates(' \n\n ')).toThrow(/the list of candidate captions is empty/);
    expect(typedCandidates('a dog\n\n a cat \n')).toEqual(['a dog', 'a cat']);
    const k = galleryPhotoKey('enc', 'a/1.jpg', 10, 5);
    expect(k).not.toBe(galleryPhotoKey('enc', 'a/1.jpg', 11, 5));
    expect(k).not.toBe(galleryPhotoKey('enc', 'a/1.jpg', 10, 6));
    expect(k).not.toBe(galleryPhotoKey('other', 'a/1.jpg', 10, 5));
  });

  it('clears a query’s previous results when it fails, and the starter state follows its events', () => {
    let s = initialPhotosState();
    const ranked: PhotosEvent = {
      kind: 'ranked',
      runId: 'starter',
      source: 'bank',
      candidates: 3,
      repeated: 0,
      unknownOnly: [],
      unknownWords: [],
      nothingFits: 1,
      results: [
        {
          name: 'a.jpg',
          items: [{ text: 'a dog', score: -0.5, energy: 0.5 }],
          best: 0.5,
          nothingFits: false,
        },
      ],
    };
    s = { ...s, ...reducePhotos(s, ranked) };
    expect(s.rank.result?.results).toHaveLength(1);
    s = { ...s, ...reducePhotos(s, { kind: 'failed', query: 'rank', message: 'b.txt: not a photo' }) };
    expect(s.rank.result).toBeNull();
    expect(s.rank.error).toBe('b.txt: not a photo');
    s = {
      ...s,
      ...reducePhotos(s, { kind: 'failed', query: 'starter', message: 'starter/weights.bin: missing' }),
    };
    expect(s.starter).toMatchObject({ state: 'failed', message: 'starter/weights.bin: missing' });
  });
});

describe('generalityVerdict', () => {
  it('says neither contains the other when both energies are far from 0, however close they are', () => {
    expect(generalityVerdict(10, 10.03, 0.5, 2)).toBe('unrelated');
    expect(generalityVerdict(10, 30, 0.5, 2)).toBe('unrelated');
    expect(generalityVerdict(0.1, 10, 0.5, 2)).toBe('b-more-general');
    expect(generalityVerdict(10, 0.2, 0.5, 2)).toBe('a-more-general');
    expect(generalityVerdict(0.6, 1.9, 0.5, 2)).toBe('b-more-general');
    expect(generalityVerdict(0.1, 0.2, 0.5, 2)).toBe('equivalent');
  });
});
