#!/usr/bin/env node
// Copies the tfjs wasm binaries into public/tfjs-wasm/ so that Vite serves (and builds) them with
// the app; the page then never fetches them from a CDN. Idempotent; run before `vite` / `vite build`.
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
const dest = join(root, 'public', 'tfjs-wasm');

let files;
try {
  files = readdirSync(src).filter((f) => f.endsWith('.wasm'));
} catch {
  console.error(`copy-wasm: ${src} not found; run npm install first.`);
  process.exit(1);
}
if (files.length === 0) {
  console.error(`copy-wasm: no .wasm files in ${src}`);
  process.exit(1);
}

mkdirSync(dest, { recursive: true });
let copied = 0;
for (const f of files) {
  const from = join(src, f);
  const to = join(dest, f);
  let same = false;
  try {
    const a = statSync(from);
    const b = statSync(to);
    same = a.size === b.size && a.mtimeMs <= b.mtimeMs;
  } catch {
    // destination missing
  }
  if (!same) {
    copyFileSync(from, to);
    copied++;
  }
}
console.log(`copy-wasm: ${files.length} file(s) in public/tfjs-wasm/ (${copied} copied)`);
