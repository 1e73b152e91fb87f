/**
 * The built-in scenes as a feature pack (src/model/data/pack.ts), and the check that a pack on disk is
 * still what the current code would render.
 *
 * Why the check: the pack's captions and features are only right for the scenes the generator draws
 * today. A pack records the generator's version, seed and count in an extra manifest field (`scenes`);
 * a loader that finds an older one should render and extract afresh rather than train on features of
 * other pictures.
 */
import { buildPack, type Pack, type PackFeatureType, type PackManifest } from '../data/pack';
import { makeSceneSet, SCENES_DEFAULTS, SCENES_VERSION, type ScenesOptions } from './scenes';

/** Pack name of the built-in scenes. */
export const SCENES_PACK_NAME = 'scenes';

/**
 * Where the prebuilt pack ships: public/scenes/ in the repository, served at `scenes/` beside the page
 * (public/packs/ is for packs a user prepares and is not tracked).
 */
export const SCENES_PACK_URL = 'scenes/';

/**
 * The fixed `createdAt` of a prebuilt scenes pack: regenerating it with the same code and weights then
 * gives the same bytes (a shipped file that changes on every run would only add noise to the history).
 */
export const SCENES_PACK_CREATED_AT = '2000-01-01T00:00:00.000Z';

/** What a scenes pack records about its generator, in `manifest.scenes`. */
export interface ScenesPackInfo {
  version: number;
  seed: number;
  numImages: number;
}

/** A pack manifest that may carry {@link ScenesPackInfo}. */
export type ScenesPackManifest = PackManifest & { scenes?: ScenesPackInfo };

export interface ScenesPackOptions {
  /** Image-encoder preset id the features were computed with. */
  encoder: string;
  featureDim: number;
  /** Side of thumbs/<i>.jpg, or null when the pack has none. */
  thumbSize?: number | null;
  createdAt?: string;
  /** Storage type of features.bin (default float32). */
  featureType?: PackFeatureType;
}

/**
 * The pack of the scenes of `opts` with their features (row-major [numImages, featureDim], 1 crop):
 * image names, captions and splits from {@link makeSceneSet}, plus `manifest.scenes`.
 */
export function buildScenesPack(opts: ScenesOptions, features: Float32Array, p: ScenesPackOptions): Pack {
  const set = makeSceneSet(opts);
  const pack = buildPack(
    { images: set.images, captions: set.captions, splits: set.splits, problems: [] },
    features,
    {
      name: SCENES_PACK_NAME,
      encoder: p.encoder,
      featureDim: p.featureDim,
      crops: 1,
      thumbSize: p.thumbSize ?? null,
      createdAt: p.createdAt,
      featureType: p.featureType,
    },
  );
  const scenes: ScenesPackInfo = { version: SCENES_VERSION, seed: opts.seed, numImages: opts.numImages };
  const manifest: ScenesPackManifest = { ...pack.manifest, scenes };
  return { manifest, features: pack.features };
}

/**
 * Why `manifest` is not a current pack of the scenes of `opts` (default: the built-in set) made with
 * `encoder`, or null when it is one.
 */
export function staleScenesPack(
  manifest: ScenesPackManifest,
  encoder: string,
  opts: Pick<ScenesOptions, 'numImages' | 'seed'> = SCENES_DEFAULTS,
): string | null {
  const s = manifest.scenes;
  if (manifest.name !== SCENES_PACK_NAME || !s) return `pack '${manifest.name}' is not a scenes pack`;
  if (s.version !== SCENES_VERSION)
    return `scenes pack of generator version ${s.version}, the code renders version ${SCENES_VERSION}`;
  if (s.seed !== opts.seed || s.numImages !== opts.numImages || manifest.numImages !== opts.numImages)
    return `scenes pack of ${s.numImages} scenes from seed ${s.seed}, expected ${opts.numImages} from seed ${opts.seed}`;
  if (manifest.encoder !== encoder)
    return `scenes pack built with encoder ${manifest.encoder}, expected ${encoder}`;
  return null;
}
