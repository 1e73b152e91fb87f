import { describe, expect, it } from 'vitest';
import { isSoftwareAdapter, planBackends } from '../../src/worker/backend-choice';
import { generalityVerdict } from '../../src/worker/protocol';

describe('backend choice', () => {
  it('recognises software WebGPU adapters', () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'intel', isFallbackAdapter: true })).toBe(true);
  });

  it('auto: hardware WebGPU first, wasm first on a software adapter or without WebGPU', () => {
    const hw = planBackends('auto', { available: true, software: false, name: 'nvidia hopper' });
    expect(hw.order[0]).toBe('webgpu');
    expect(hw.reason).toMatch(/hardware WebGPU adapter \(nvidia hopper\)/);
    const sw = planBackends('auto', { available: true, software: true, name: 'google swiftshader' });
    expect(sw.order).toEqual(['wasm', 'webgl', 'cpu']);
    expect(sw.reason).toMatch(/software one/);
    const none = planBackends('auto', { available: false, why: 'no navigator.gpu' });
    expect(none.order[0]).toBe('wasm');
    expect(none.reason).toMatch(/no navigator.gpu/);
  });

  it('a requested backend comes first, with the others as fallbacks', () => {
    expect(planBackends('webgl', { available: false, why: '' }).order).toEqual(['webgl', 'wasm', 'cpu']);
    expect(planBackends('cpu', { available: false, why: '' }).order).toEqual(['cpu', 'wasm', 'webgl']);
  });

  it('WebGPU requested on a software adapter is used, and the reason says it is slow', () => {
    const sw = planBackends('webgpu', { available: true, software: true, name: 'google swiftshader' });
    expect(sw.order).toEqual(['webgpu', 'wasm', 'webgl', 'cpu']);
    expect(sw.reason).toBe(
      'requested webgpu; the WebGPU adapter is a software one (google swiftshader), slower than WASM on this CPU',
    );
    const hw = planBackends('webgpu', { available: true, software: false, name: 'nvidia hopper' });
    expect(hw.reason).toBe('requested webgpu');
  });
});

describe('generality verdict', () => {
  it('reads the two order-violation energies', () => {
    expect(generalityVerdict(0.001, 0.5, 0.01)).toBe('b-more-general');
    expect(generalityVerdict(0.5, 0.001, 0.01)).toBe('a-more-general');
    expect(generalityVerdict(0.001, 0.002, 0.01)).toBe('equivalent');
    expect(generalityVerdict(0.5, 0.52, 0.01)).toBe('unrelated');
    // Both far from 0 (beyond 4x the tolerance): neither contains the other, whatever the ratio.
    expect(generalityVerdict(0.2, 0.6, 0.01)).toBe('unrelated');
    // One near 0 (within 4x the tolerance), the other far: the smaller violation reads as containment.
    expect(generalityVerdict(0.02, 0.3, 0.01)).toBe('b-more-general');
    expect(generalityVerdict(0.3, 0.03, 0.01)).toBe('a-more-general');
    // Near, but close to each other: no verdict on a small difference.
    expect(generalityVerdict(0.03, 0.035, 0.01)).toBe('unrelated');
  });
});
