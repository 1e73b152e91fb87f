/**
 * The matMul kernels of wasm's single-threaded build one can ask for (no tfjs import: the page's main
 * thread reads `?matmul=` with these): 'host' our SIMD kernel (./matmul-host.ts), its relaxed-SIMD
 * build where the runtime has relaxed SIMD, else its plain build; 'relaxed' or 'plain' that build;
 * 'xnnpack' tfjs's own.
 */
export const MATMUL_CHOICES = ['host', 'relaxed', 'plain', 'xnnpack'] as const;
export type MatMulChoice = (typeof MATMUL_CHOICES)[number];

/** Our kernel's builds: 'relaxed' fused multiply-adds (relaxed SIMD); 'plain' a multiply and an add. */
export type MatMulBuild = 'relaxed' | 'plain';
