/**
 * npm run build:wasm: assembles the hand-written WebAssembly text (SIMD) of the host kernels into
 * TypeScript modules holding their bytes as base64 (scripts/lib/host-wasm.ts lists them):
 *   src/model/kernels/lnHost.wat -> lnHost.wasm-bytes.ts (the 'host-ln' layer norms)
 *   src/model/kernels/ovHost.wat -> ovHost.wasm-bytes.ts (the host-fused order-violation energy)
 *   src/model/kernels/matmulHost.wat -> matmulHost.wasm-bytes.ts (matMul on tfjs's wasm heap; four
 *     builds: relaxed SIMD's fused multiply-add or plain SIMD, each for a plain or a shared memory)
 *   src/model/training/adamHost.wat -> adamHost.wasm-bytes.ts (Adam in one pass on tfjs's wasm heap;
 *     two builds: one for a plain memory, one for the shared memory of tfjs's threaded build)
 *   src/model/parallel/sumHost.wat -> sumHost.wasm-bytes.ts (the Node pool's in-order gradient sum)
 * Their tests (ln-host-wasm, ov-host-wasm, training/adam-host, parallel/sum-host) fail when text and
 * bytes disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { assembleWasm, HOST_WASM, variantText, wasmBytesModule } from './lib/host-wasm';

async function main(): Promise<void> {
  for (const m of Object.values(HOST_WASM)) {
    const wat = readFileSync(m.wat, 'utf8');
    const bytes = await assembleWasm(wat, path.basename(m.wat));
    const variants: Uint8Array[] = [];
    for (const v of m.variants ?? [])
      variants.push(await assembleWasm(variantText(wat, v), path.basename(m.wat)));
    writeFileSync(m.bytesTs, wasmBytesModule(m, bytes, variants));
    console.log(`${m.bytesTs}: ${bytes.length} bytes of WebAssembly`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`build:wasm: ${(e as Error).message}\n`);
  process.exit(1);
});
