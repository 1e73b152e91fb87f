/**
 * Node-side dataset loading for the scripts: 'synthetic' (src/model/synthetic.ts) or a feature pack
 * folder (manifest.json + features.bin, see src/model/data/pack.ts) as written by prepare:flickr8k.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PACK_FEATURES, PACK_MANIFEST, packToDataset, parsePackManifest } from '../src/model/data/pack';
import { makeSyntheticDataset } from '../src/model/synthetic';
import type { Dataset } from '../src/model/types';

export async function loadDataset(spec: string, opts: { expectEncoder?: string } = {}): Promise<Dataset> {
  if (spec === 'synthetic') return makeSyntheticDataset();
  const manifestPath = path.join(spec, PACK_MANIFEST);
  if (!existsSync(manifestPath)) {
    throw new Error(`${spec}: not a feature pack (no ${PACK_MANIFEST}); build one with npm run prepare:flickr8k -- <folder>`);
  }
  const manifest = parsePackManifest(JSON.parse(readFileSync(manifestPath, 'utf8')), manifestPath);
  return packToDataset(manifest, readFileSync(path.join(spec, PACK_FEATURES)), opts);
}
