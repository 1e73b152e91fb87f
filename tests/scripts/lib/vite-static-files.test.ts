/**
 * The data and model paths of the servers (scripts/lib/vite-static-files.ts): a missing file is a 404 with a
 * reason, never index.html with status 200; present files and the page's own routes are left to Vite.
 * Checked on the pure answer function, and on real `vite` dev and `vite preview` servers over a folder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, preview, type PreviewServer, type ViteDevServer } from 'vite';
import { answerStatic, staticFiles } from '../../../scripts/lib/vite-static-files';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'orderembed-static-'));
const root = path.join(tmp, 'site'); // what the server serves (public/ or dist/)
const shared = path.join(tmp, 'shared', 'models');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(() => {
  mkdirSync(path.join(root, 'models', 'enc'), { recursive: true });
  mkdirSync(path.join(root, 'scenes'), { recursive: true });
  writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>page</title><p>the page</p>');
  writeFileSync(path.join(root, 'models', 'enc', 'model.json'), '{"modelTopology":{}}');
  writeFileSync(path.join(root, 'scenes', 'manifest.json'), '{}');
  mkdirSync(path.join(shared, 'mn'), { recursive: true });
  writeFileSync(path.join(shared, 'mn', 'model.json'), '{"shared":true}');
});

describe('answerStatic', () => {
  it('leaves present files and non-data paths to Vite', () => {
    expect(answerStatic('/models/enc/model.json', '/', root, shared)).toEqual({ kind: 'next' });
    expect(answerStatic('/scenes/manifest.json?v=1', '/', root, shared)).toEqual({ kind: 'next' });
    expect(answerStatic('/', '/', root, shared)).toEqual({ kind: 'next' });
    expect(answerStatic('/some/route', '/', root, shared)).toEqual({ kind: 'next' });
    expect(answerStatic('/src/main.tsx', '/', root, shared)).toEqual({ kind: 'next' });
  });

  it('answers a missing data or model file with 404 and how to get it', () => {
    const pack = answerStatic('/packs/flickr8k-mobilenet-v1-1.0-trunk/manifest.json', '/', root, shared);
    expect(pack).toMatchObject({ kind: 'missing', status: 404 });
    expect(pack.kind === 'missing' && pack.body).toMatch(
      /not found: \/packs\/flickr8k-mobilenet-v1-1\.0-trunk\/manifest\.json .*npm run prepare:flickr8k/,
    );
    const model = answerStatic('/models/nope/model.json', '/', root, shared);
    expect(model.kind === 'missing' && model.body).toMatch(/not found: \/models\/nope\/model\.json/);
    // A folder is not a file; a path that climbs out of the folder is not served.
    expect(answerStatic('/models/enc', '/', root, shared).kind).toBe('missing');
    writeFileSync(path.join(tmp, 'secret.txt'), 'outside the served folder');
    expect(answerStatic('/models/../../secret.txt', '/', root, shared).kind).toBe('missing');
    expect(answerStatic('/models/%E0%A4%A', '/', root, shared).kind).toBe('missing');
  });

  it('serves the shared models when present, 404 naming the development data otherwise', () => {
    expect(answerStatic('/shared-models/mn/model.json', '/', root, shared)).toEqual({
      kind: 'file',
      file: path.join(shared, 'mn', 'model.json'),
    });
    const gone = answerStatic('/shared-models/mn/model.json', '/', root, path.join(tmp, 'empty', 'models'));
    expect(gone.kind === 'missing' && gone.body).toMatch(/development data/);
  });

  it('honours a base other than /', () => {
    expect(answerStatic('/app/models/enc/model.json', '/app/', root, shared)).toEqual({ kind: 'next' });
    expect(answerStatic('/app/packs/x/manifest.json', '/app/', root, shared).kind).toBe('missing');
    expect(answerStatic('/packs/x/manifest.json', '/app/', root, shared)).toEqual({ kind: 'next' });
  });
});

/** Status, content type and body of a GET. */
async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe('on real servers', () => {
  let dev: ViteDevServer | undefined;
  let prev: PreviewServer | undefined;
  afterAll(async () => {
    await dev?.close();
    await prev?.close();
  });

  // What a user's machine has: no ../shared anywhere.
  const env = { ORDEREMBED_SHARED: path.join(tmp, 'empty') };

  async function check(base: string): Promise<void> {
    const missing = await get(`${base}packs/flickr8k-mobilenet-v1-1.0-trunk/manifest.json`);
    expect(missing.status).toBe(404);
    expect(missing.type).toMatch(/text\/plain/);
    expect(missing.body).toMatch(/npm run prepare:flickr8k/);
    expect((await get(`${base}shared-models/mobilenet-v2-0.35/model.json`)).status).toBe(404);
    expect((await get(`${base}models/nope/model.json`)).status).toBe(404);
    const present = await get(`${base}models/enc/model.json`);
    expect([present.status, present.body]).toEqual([200, '{"modelTopology":{}}']);
    // The page's own routes still fall back to index.html.
    const page = await get(`${base}some/route`);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/the page/);
  }

  it('vite dev (public folder) and vite preview (build folder) answer 404 for missing data files', async () => {
    const saved = process.env.ORDEREMBED_SHARED;
    process.env.ORDEREMBED_SHARED = env.ORDEREMBED_SHARED;
    try {
      dev = await createServer({
        configFile: false,
        root: tmp,
        publicDir: root,
        logLevel: 'silent',
        plugins: [staticFiles()],
        server: { host: '127.0.0.1', port: 0, strictPort: false },
      });
      writeFileSync(path.join(tmp, 'index.html'), '<!doctype html><p>the page</p>');
      await dev.listen();
      const devUrl = dev.resolvedUrls?.local[0];
      expect(devUrl).toBeTruthy();
      await check(devUrl!);

      prev = await preview({
        configFile: false,
        root: tmp,
        logLevel: 'silent',
        plugins: [staticFiles()],
        build: { outDir: root },
        preview: { host: '127.0.0.1', port: 0, strictPort: false },
      });
      const prevUrl = prev.resolvedUrls?.local[0];
      expect(prevUrl).toBeTruthy();
      await check(prevUrl!);
    } finally {
      if (saved === undefined) delete process.env.ORDEREMBED_SHARED;
      else process.env.ORDEREMBED_SHARED = saved;
    }
  });
});
