/**
 * `npm run bench:gpu` without a usable adapter says what is missing and exits 1 (a name no adapter has
 * makes Dawn offer none, on any machine), and the peak-bandwidth table finds the GPUs by their Vulkan
 * names. The benchmark itself: docs/benchmarks.md (bench:gpu).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { peakBandwidth } from '../../scripts/lib/node-webgpu';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

describe('bench:gpu', () => {
  it('exits 1 naming what is missing when Dawn offers no adapter', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/bench-gpu.ts', '--quick', '--adapter', 'no-such-adapter-9f3'],
      { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(1);
    // With a Vulkan loader: no adapter, with the drivers seen; without one: the loader is named.
    expect(r.stderr).toMatch(/^bench:gpu: (no WebGPU adapter: |no Vulkan loader: libvulkan\.so\.1)/m);
    expect(r.stdout).not.toMatch(/train step/);
  });

  it('knows the peak bandwidth of H100, H200 and A100 by adapter name, and no other', () => {
    expect(peakBandwidth('NVIDIA H100 80GB HBM3')?.gbps).toBe(3350);
    expect(peakBandwidth('NVIDIA H100 PCIe')?.gbps).toBe(2000);
    expect(peakBandwidth('NVIDIA H200')?.gbps).toBe(4800);
    expect(peakBandwidth('NVIDIA A100-SXM4-80GB')?.gbps).toBe(2039);
    expect(peakBandwidth('NVIDIA A100-PCIE-40GB')?.gbps).toBe(1555);
    expect(peakBandwidth('SwiftShader driver 5.0.0')).toBeUndefined();
    expect(peakBandwidth('NVIDIA GeForce RTX 4090')).toBeUndefined();
  });
});
