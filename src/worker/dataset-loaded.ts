/**
 * What a dataset load works with and yields, shared by the loaders (./datasets.ts: the built-in scenes,
 * ./dataset-pack.ts: feature packs, ./dataset-folder.ts: picked folders): the load's context (base URL,
 * cancel signal, progress) and the loaded dataset with its summary for the UI.
 */
import type { EncoderPreset } from '../model/encoders';
import type { Dataset } from '../model/types';
import type { DatasetInfo, Thumb } from './protocol';

export interface LoadContext {
  /** Absolute URL of the page's base (where packs/ and models/ are served), ends with '/'. */
  baseUrl: string;
  /** Cancels the load: a download stops at once, feature extraction between batches. */
  signal: AbortSignal;
  onProgress: (phase: string, done: number, total: number, imagesPerSec: number) => void;
}

export interface LoadedDataset {
  dataset: Dataset;
  info: DatasetInfo;
  /** Image-encoder preset of the features (null: synthetic): photos uploaded for ranking use it too. */
  preset: EncoderPreset | null;
  /** Inline thumbnails (rendered scenes). */
  thumb?: (image: number) => Thumb;
}

function splitsOf(ds: Dataset): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(ds.splits)) if (v?.length) out[k] = v.length;
  return out;
}

/** The summary of a loaded dataset: its sizes and splits, then what the loader says (`rest`). */
export function infoOf(
  ds: Dataset,
  rest: Omit<DatasetInfo, 'name' | 'numImages' | 'numCaptions' | 'imageDim' | 'splits'>,
): DatasetInfo {
  return {
    name: ds.name,
    numImages: ds.numImages,
    numCaptions: ds.captions.length,
    imageDim: ds.imageDim,
    splits: splitsOf(ds),
    ...rest,
  };
}
