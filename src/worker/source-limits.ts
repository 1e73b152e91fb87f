/**
 * Dataset sources checked against src/model/limits.ts before anything is rendered, read or allocated
 * (`?scenes=100000000` would otherwise hang at "starting" with gigabytes allocated), and loaded
 * datasets checked after parsing, before training or evaluation can cost minutes per pass.
 */
import { checkDatasetSize, checkIntLimit, formatBytes, LIMITS } from '../model/limits';
import type { DatasetSource } from './protocol';
import type { LoadedDataset } from './datasets';

/** Throws naming the count or file past its limit. */
export function checkSourceLimits(source: DatasetSource): void {
  switch (source.kind) {
    case 'scenes':
      if (source.numImages !== undefined) checkIntLimit('number of scenes', source.numImages, 'scenes', 2);
      return;
    case 'synthetic':
      if (source.numImages !== undefined)
        checkIntLimit('number of synthetic images', source.numImages, 'numImages', 2);
      return;
    case 'folder': {
      // Photos plus a few caption and split files.
      if (source.files.length > LIMITS.numImages + 100)
        throw new Error(
          `folder '${source.name}': ${source.files.length} files; at most ${LIMITS.numImages} photos are loaded`,
        );
      const big = source.files.find((f) => f.file.size > LIMITS.uploadBytes);
      if (big)
        throw new Error(
          `folder '${source.name}': ${big.path} is ${formatBytes(big.file.size)}; at most ${formatBytes(LIMITS.uploadBytes)} per file`,
        );
      return;
    }
    case 'pack':
      return;
  }
}

/** A loaded dataset's counts and caption lengths within the limits. */
export function checkLoadedDataset(loaded: LoadedDataset): void {
  const ds = loaded.dataset;
  checkDatasetSize(`dataset '${ds.name}'`, ds.numImages, ds.captions.length, ds.imageDim);
  const long = ds.captions.findIndex((c) => c.text.length > LIMITS.captionChars);
  if (long >= 0)
    throw new Error(
      `dataset '${ds.name}': caption ${long + 1} is ${ds.captions[long].text.length} characters long; at most ${LIMITS.captionChars}`,
    );
}
