/**
 * Node and the browser render the same bytes: the scene module is served by a Vite dev server (which
 * compiles the TypeScript as it does for the playground), imported in headless Chromium, and its
 * renders are hashed against Node's. Skipped when Chromium is missing (the unit suite must not need a
 * browser; `npm test` installs one for the browser suite).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import { describe, expect, it } from 'vitest';
import { makeSceneSpecs, renderScene } from '../../src/model/scenes/scenes';
import { repoRoot } from '../helpers/shared';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const digest = (parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

describe.skipIf(!existsSync(CHROMIUM))('scenes in the browser', () => {
  it('renders byte-identical scenes in Chromium and Node', async () => {
    const server = await createServer({
      root: repoRoot,
      configFile: false,
      logLevel: 'silent',
      server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
      optimizeDeps: { noDiscovery: true, include: [] },
    });
    await server.listen();
    const browser = await chromium.launch({ executablePath: CHROMIUM });
    try {
      const url = server.resolvedUrls!.local[0];
      const page = await browser.newPage();
      await page.goto(url);
      // Scenes of several sizes, including an odd one, as lists of bytes (structured-cloneable).
      // The page code is a string: vitest would rewrite a dynamic import() inside a function. The
      // browser hashes its bytes itself (WebCrypto; 127.0.0.1 is a secure context): shipping millions
      // of numbers over the DevTools protocol would take most of a minute.
      const fromBrowser = await page.evaluate<string>(`(async () => {
        const m = await import('/src/model/scenes/scenes.ts');
        const specs = m.makeSceneSpecs(40, 11);
        const parts = [224, 97, 64].flatMap((size) => specs.map((s) => m.renderScene(s, size).data));
        const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        parts.reduce((o, p) => (all.set(p, o), o + p.length), 0);
        const h = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
        return Array.from(h, (b) => b.toString(16).padStart(2, '0')).join('');
      })()`);
      const specs = makeSceneSpecs(40, 11);
      const fromNode = [224, 97, 64].flatMap((size) => specs.map((s) => renderScene(s, size).data));
      expect(fromBrowser).toBe(digest(fromNode));
    } finally {
      await browser.close();
      await server.close();
    }
  }, 120_000);
});
