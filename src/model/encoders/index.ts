/**
 * Pretrained-CNN image encoders for the playground: presets, the encoder, cropping, batched feature
 * extraction and a feature cache. Plain TypeScript over tfjs; runs in the browser worker and in Node
 * (Node-only parts: scripts/lib/node-images.ts).
 */
export type { RgbImage, EncoderPreset, EncoderSource, EncoderOutput, ModelLoader } from './types';
export {
  ENCODER_PRESETS,
  DEFAULT_ENCODER_ID,
  DEFAULT_ENCODER_URL,
  FALLBACK_ENCODER_ID,
  customPreset,
  type CustomPresetOptions,
} from './presets';
export { ImageEncoder } from './encoder';
export { imageTensor, toInputTensor, cropsOf, TEN_CROP_SHORT_SIDE } from './image';
export { extractFeatures, type ExtractOptions, type ExtractResult } from './extract';
export {
  type FeatureCache,
  type FeatureCacheInfo,
  type FeatureCacheKeyParts,
  featureCacheKey,
  parseFeatureCacheKey,
  hashStrings,
  NoFeatureCache,
  IdbFeatureCache,
} from './cache';
export {
  isGraphModelJson,
  loadModelFromArtifacts,
  browserModelLoader,
  modelUrlOf,
  decodeImageBlob,
  type BrowserLoaderOptions,
  type DecodeOptions,
} from './browser';
export {
  checkEncoderAvailable,
  checkEncodersAvailable,
  encoderSourceHint,
  type EncoderAvailability,
  type AvailabilityOptions,
} from './availability';
export {
  decodePhoto,
  sniffPhoto,
  photoProblem,
  fitWithin,
  MAX_PHOTO_MEGAPIXELS,
  MAX_PHOTO_BYTES,
  DECODABLE_FORMATS,
  type PhotoFormat,
  type PhotoHeader,
  type DecodePhotoOptions,
} from './photo';
