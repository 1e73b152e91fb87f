/**
 * npm run build:ln-wasm: assembles src/model/kernels/lnHost.wat (WebAssembly text, SIMD) into
 * src/model/kernels/lnHost.wasm-bytes.ts, the module's bytes as base64, which the app imports (no
 * build step at run time, no fetch). tests/model/ln-host-wasm.test.ts fails when the two disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { assembleLnWasm, LN_WASM_BYTES_TS, LN_WASM_WAT, lnWasmBytesModule } from './lib/ln-wasm';

async function main(): Promise<void> {
  const bytes = await assembleLnWasm(readFileSync(LN_WASM_WAT, 'utf8'));
  writeFileSync(LN_WASM_BYTES_TS, lnWasmBytesModule(bytes));
  console.log(`${LN_WASM_BYTES_TS}: ${bytes.length} bytes of WebAssembly`);
}

main().catch((e: unknown) => {
  process.stderr.write(`build:ln-wasm: ${(e as Error).message}\n`);
  process.exit(1);
});
