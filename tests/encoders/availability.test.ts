/**
 * The encoder availability check (src/model/encoders/availability.ts) against a fake server: an encoder is
 * offered only when its model.json is JSON with a topology and every weight shard answers; otherwise the
 * reason names the file and how to get it. Also: the real presets on a server that serves public/ only.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkEncoderAvailable,
  checkEncodersAvailable,
  customPreset,
  DEFAULT_ENCODER_ID,
  ENCODER_PRESETS,
  FALLBACK_ENCODER_ID,
} from '../../src/model/encoders';
import { repoRoot } from '../../scripts/lib/node-images';

const MODEL = JSON.stringify({
  modelTopology: { class_name: 'Model' },
  weightsManifest: [{ paths: ['group1-shard1of1', 'group2-shard1of1'], weights: [] }],
});

/** A fake fetch over a map of URL -> body (absent: 404); records the requests. */
function fakeServer(files: Record<string, string>, fallbackHtml = false) {
  const requests: string[] = [];
  const fetchFn = (url: string, init?: { method?: string }) => {
    requests.push(`${init?.method ?? 'GET'} ${url}`);
    const body = files[url] ?? (fallbackHtml ? '<!doctype html><html></html>' : undefined);
    return Promise.resolve(
      body === undefined ? new Response('not found', { status: 404 }) : new Response(body, { status: 200 }),
    );
  };
  return { fetchFn, requests };
}

const preset = customPreset('http://h/models/enc/');

describe('checkEncoderAvailable', () => {
  it('offers an encoder whose model.json and every shard are served, without downloading the shards', async () => {
    const { fetchFn, requests } = fakeServer({
      'http://h/models/enc/model.json': MODEL,
      'http://h/models/enc/group1-shard1of1': 'x',
      'http://h/models/enc/group2-shard1of1': 'x',
    });
    expect(await checkEncoderAvailable(preset, { fetch: fetchFn })).toEqual({ id: preset.id, ok: true });
    expect(requests.filter((r) => r.startsWith('HEAD'))).toHaveLength(2);
    expect(requests.filter((r) => r.startsWith('GET'))).toEqual(['GET http://h/models/enc/model.json']);
  });

  it('names a missing model.json, an HTML fallback page, and missing shards', async () => {
    const none = await checkEncoderAvailable(preset, { fetch: fakeServer({}).fetchFn });
    expect(none.ok).toBe(false);
    expect(none.reason).toMatch(/http:\/\/h\/models\/enc\/model\.json: HTTP 404/);
    const html = await checkEncoderAvailable(preset, { fetch: fakeServer({}, true).fetchFn });
    expect(html.reason).toMatch(/model\.json is an HTML page, not a tfjs model\.json/);
    const shard = await checkEncoderAvailable(preset, {
      fetch: fakeServer({
        'http://h/models/enc/model.json': MODEL,
        'http://h/models/enc/group1-shard1of1': 'x',
      }).fetchFn,
    });
    expect(shard.reason).toMatch(
      /weight files .* missing: http:\/\/h\/models\/enc\/group2-shard1of1 \(HTTP 404\)/,
    );
    const noTopology = await checkEncoderAvailable(preset, {
      fetch: fakeServer({ 'http://h/models/enc/model.json': '{"weightsManifest": []}' }).fetchFn,
    });
    expect(noTopology.reason).toMatch(/no modelTopology/);
  });

  it('says a shared model needs the development data, and never throws on a network error', async () => {
    const v2 = ENCODER_PRESETS['mobilenet-v2-0.35'];
    const r = await checkEncoderAvailable(v2, {
      baseUrl: 'http://h/',
      sharedModelsUrl: 'http://h/shared-models',
      fetch: fakeServer({}).fetchFn,
    });
    expect(r.reason).toMatch(
      /shared-models\/mobilenet-v2-0\.35\/model\.json: HTTP 404; .*\.\.\/shared\/models/,
    );
    const down = await checkEncoderAvailable(preset, { fetch: () => Promise.reject(new Error('refused')) });
    expect(down).toMatchObject({ ok: false, reason: expect.stringMatching(/cannot fetch .*refused/) });
  });
});

describe('checkEncodersAvailable on a server of public/ only (no ../shared)', () => {
  it('offers the shipped encoders and greys out the shared one; shared weights are checked once', async () => {
    const requests: string[] = [];
    // Serve files under public/ like the static-files plugin does; nothing else.
    const fetchFn = async (url: string, init?: { method?: string }) => {
      requests.push(`${init?.method ?? 'GET'} ${url}`);
      const p = new URL(url).pathname;
      const file = path.join(repoRoot, 'public', decodeURIComponent(p));
      if (!p.startsWith('/shared-models/') && existsSync(file)) {
        const { readFile } = await import('node:fs/promises');
        return new Response(init?.method === 'HEAD' ? null : await readFile(file), { status: 200 });
      }
      return new Response('not found', { status: 404 });
    };
    const all = await checkEncodersAvailable(Object.values(ENCODER_PRESETS), {
      baseUrl: 'http://h/',
      sharedModelsUrl: 'http://h/shared-models',
      fetch: fetchFn,
    });
    expect(all[DEFAULT_ENCODER_ID]).toEqual({ id: DEFAULT_ENCODER_ID, ok: true });
    expect(all[`${DEFAULT_ENCODER_ID}-meanmax`]?.ok).toBe(true);
    expect(all[FALLBACK_ENCODER_ID]?.ok).toBe(true);
    expect(all['mobilenet-v2-0.35']?.ok).toBe(false);
    // The trunk's model.json is fetched once for its two presets.
    const trunkJson = requests.filter((r) => r === `GET http://h/models/${DEFAULT_ENCODER_ID}/model.json`);
    expect(trunkJson).toHaveLength(1);
  });
});
