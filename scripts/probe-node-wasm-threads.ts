/**
 * Probe: does tfjs 4.22's threaded SIMD wasm run in Node 20 (worker_threads as its pthreads)? Not used by
 * the trainer (which shards batches over worker_threads instead: scripts/lib/parallel-pool.ts); kept so
 * that the finding in docs/benchmarks.md ("Threads in Node") can be re-checked.
 *
 *   npx tsx scripts/probe-node-wasm-threads.ts [threads]   (prints the thread count and matMul times)
 *
 * Out of the box it does not: tfjs reports WASM_HAS_MULTITHREAD_SUPPORT false in Node, and hands its
 * pthread workers blob: URLs and a Blob of the glue, which worker_threads cannot load. With four shims it
 * runs: (1) the flag forced on; (2) Blob and URL.createObjectURL replaced by files in a temp folder (the
 * worker script gets a prelude that reads those files back); (3) the bundle's rewritten requires
 * (require$$0 = fs, ... and commonjsGlobal) defined in that prelude, since the glue's toString() is run
 * outside the bundle; (4) os.cpus() reporting twice the wanted count, since the glue caps its pool at
 * half the logical cores.
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const threads = Number(process.argv[2] ?? os.availableParallelism());
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-wasm-threads-'));
const prelude =
  'URL.createObjectURL=(o)=>o.__file;URL.revokeObjectURL=()=>{};' +
  'var require$$0=require("fs"),require$$1=require("path"),require$$3=require("perf_hooks"),' +
  'require$$4=require("os"),commonjsGlobal=globalThis;\n';
let files = 0;
/** A Blob that is a file: the pthread workers load it with importScripts (fs.readFileSync). */
class FileBlob {
  readonly __file: string;
  constructor(parts: string[]) {
    const text = parts.join('');
    this.__file = path.join(dir, `blob${files++}.cjs`);
    fs.writeFileSync(this.__file, (text.includes('onmessage') ? prelude : '') + text);
  }
}
(globalThis as Record<string, unknown>).Blob = FileBlob;
(URL as unknown as Record<string, unknown>).createObjectURL = (b: FileBlob) => b.__file;
const cpus = os.cpus;
os.cpus = () => Array.from({ length: 2 * threads }, (_, i) => cpus()[i % cpus().length]);

const tf = require('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
wasm.setThreadsCount(threads);
await tf.setBackend('wasm');
console.log(`backend ${tf.getBackend()}, ${wasm.getThreadsCount()} thread(s) (asked ${threads})`);
const a = tf.randomNormal([128, 1024]) as import('@tensorflow/tfjs-core').Tensor2D;
const b = tf.randomNormal([1024, 3072]) as import('@tensorflow/tfjs-core').Tensor2D;
for (let k = 0; k < 3; k++) {
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) tf.matMul(a, b).dataSync();
  console.log(`matMul 128x1024x3072: ${((performance.now() - t0) / 5).toFixed(1)} ms`);
}
fs.rmSync(dir, { recursive: true, force: true });
process.exit(0);
