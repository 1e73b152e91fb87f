/**
 * A GPU device lost in the middle of training (issue 18's faults), in headless Chromium on its software
 * WebGPU adapter (SwiftShader): the page trains on WebGPU, then the browser's GPU process is crashed over
 * the DevTools protocol (`Browser.crashGpuProcess`, what a driver reset or a GPU hang does to a page),
 * which loses every WebGPU device for real. The worker falls back to wasm, says so in the header and a
 * notice, and the run goes on from its last checkpoint on wasm by itself: no step before that checkpoint
 * is lost, none of the stored weights come from the lost device. Without a WebGPU adapter the test fails
 * (it does not skip).
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkpointSteps,
  datasetLoaded,
  RESULTS,
  serveAndLaunch,
  WEBGPU_FLAGS,
  type Served,
} from './harness';

const SCENES = 60;

describe('a WebGPU device lost mid-training (Chromium, SwiftShader)', () => {
  let served: Served | undefined;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    served = await serveAndLaunch(WEBGPU_FLAGS);
    page = await served.browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    // tfjs warns (once) when something reads the GPU synchronously: nothing may, in training,
    // evaluation or checkpoints (on this headless adapter such a read also loses the device).
    page.on('console', (m) => {
      if (/synchronously reading/i.test(m.text())) problems.push(`console: ${m.text()}`);
    });
  });

  afterAll(async () => {
    await served?.close();
  });

  it('falls back to wasm, says so, and the run goes on from its checkpoint', async () => {
    await page.goto(`${served!.url}?scenes=${SCENES}#train`);
    await datasetLoaded(page);
    await page.getByLabel('Backend').selectOption('webgpu');
    await expect.poll(() => page.getByTestId('backend').textContent(), { timeout: 120_000 }).toBe('webgpu');
    await datasetLoaded(page);
    await page.getByRole('tab', { name: 'Train' }).click();
    await page.getByLabel('Hidden size').fill('32');
    await page.getByLabel('Word-embedding size').fill('16');
    await page.getByLabel('Batch size').fill('16');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    // A checkpoint is stored every 5 s of training.
    await expect
      .poll(async () => Object.values(await checkpointSteps(page))[0] ?? 0, {
        timeout: 120_000,
        interval: 500,
      })
      .toBeGreaterThan(0);
    const [runId, before] = Object.entries(await checkpointSteps(page))[0]!;
    // Adam's bias-correction powers were read from the device (asynchronously) into the checkpoint.
    const powers = await page.evaluate(
      (id) =>
        new Promise<number[]>((resolve) => {
          const req = indexedDB.open('orderembed-runs');
          req.onsuccess = () => {
            const get = req.result.transaction('checkpoints', 'readonly').objectStore('checkpoints').get(id);
            get.onsuccess = () => {
              const adam = (
                get.result as { checkpoint: { adam: { beta1Power: number; beta2Power: number } } }
              ).checkpoint.adam;
              resolve([adam.beta1Power, adam.beta2Power]);
            };
          };
        }),
      runId,
    );
    expect(powers[0]).toBeCloseTo(0.9 ** (before + 1), 5);
    expect(powers[1]).toBeCloseTo(0.999 ** (before + 1), 5);
    const cdp = await served!.browser.newBrowserCDPSession();
    await cdp.send('Browser.crashGpuProcess' as never);
    // The header says wasm, a notice says why, and the run trains on.
    await expect.poll(() => page.getByTestId('backend').textContent(), { timeout: 60_000 }).toBe('wasm');
    expect(await page.getByTestId('backend-reason').textContent()).toBe('the WebGPU device was lost');
    const notices = page.getByRole('list', { name: 'Notices' });
    await expect
      .poll(() => notices.textContent(), { timeout: 60_000 })
      .toMatch(
        /The WebGPU device was lost \(.+\); falling back to wasm\. The runs go on there from their last checkpoint\./,
      );
    await expect
      .poll(() => notices.textContent(), { timeout: 60_000 })
      .toMatch(/Resumed run '.+' at step \d+\./);
    const resumedAt = Number(/Resumed run '.+' at step (\d+)\./.exec((await notices.textContent())!)![1]);
    expect(resumedAt).toBeGreaterThanOrEqual(before);
    await expect
      .poll(() => page.getByTestId('status').textContent(), { timeout: 60_000 })
      .toMatch(/running/i);
    // Its checkpoints go on from there, on wasm.
    await expect
      .poll(async () => (await checkpointSteps(page))[runId] ?? 0, { timeout: 60_000, interval: 500 })
      .toBeGreaterThan(resumedAt);
    await page.screenshot({ path: join(RESULTS, 'device-lost.png'), fullPage: true });
    expect(await page.locator('.banner.error').allTextContents(), 'no error message').toEqual([]);
    expect(problems).toEqual([]);
  });
});
