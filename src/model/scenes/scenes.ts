/**
 * The built-in captioned-scenes dataset: 1-3 coloured shapes on a plain background, rendered by our own
 * rasterizer (so Node and the browser produce identical pixels), each image with six captions from
 * general ("two shapes") to specific ("a large red circle left of a small blue square, on a grey
 * background").
 *
 * Why these scenes: the playground must open ready to train without downloading anything, and the data
 * should show what order embeddings are for. General captions ("a shape", "a red circle") describe many
 * images and specific ones few, which is exactly the partial order (caption above image, general
 * caption above specific caption) the order-violation energy learns.
 *
 * Everything is a pure function of a seed: `makeSceneSpecs(n, seed)` draws the scenes with the project's
 * seeded Rng, `renderScene` draws one, `captionsFor` describes one. Features come from an image encoder
 * outside this module (precomputed in a pack, or extracted at first load), and `scenesDataset` joins them
 * with the captions into the model's `Dataset`.
 */
import { Rng } from '../rng';
import type { Dataset } from '../types';
import {
  createImage,
  drawShape,
  fillVerticalGradient,
  sdBox,
  sdCircle,
  sdHeart,
  sdPolygon,
  type Rgb,
  type RgbBuffer,
  type Sdf,
} from './rasterizer';

export const SHAPES = ['circle', 'square', 'triangle', 'star', 'heart', 'cross'] as const;
export type ShapeName = (typeof SHAPES)[number];

export const COLOURS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange', 'black', 'white'] as const;
export type ColourName = (typeof COLOURS)[number];

export const SIZES = ['small', 'large'] as const;
export type SizeName = (typeof SIZES)[number];

export const BACKGROUNDS = ['white', 'grey', 'dark', 'pale blue', 'beige'] as const;
export type BackgroundName = (typeof BACKGROUNDS)[number];

/** Fill colours: saturated and far apart, so that a colour word is unambiguous in the pixels. */
export const COLOUR_RGB: Readonly<Record<ColourName, Rgb>> = {
  red: [214, 39, 40],
  green: [44, 160, 60],
  blue: [31, 96, 210],
  yellow: [250, 204, 21],
  purple: [136, 62, 176],
  orange: [247, 127, 14],
  black: [24, 24, 27],
  white: [252, 252, 250],
};

/**
 * Backgrounds: a gentle top-to-bottom gradient around a base colour (the base is what the contrast rule
 * and the tests use).
 */
export const BACKGROUND_RGB: Readonly<Record<BackgroundName, { base: Rgb; top: Rgb; bottom: Rgb }>> = {
  white: { base: [240, 240, 236], top: [248, 248, 245], bottom: [230, 230, 226] },
  grey: { base: [150, 152, 156], top: [162, 164, 168], bottom: [138, 140, 144] },
  dark: { base: [48, 52, 62], top: [58, 62, 74], bottom: [38, 42, 50] },
  'pale blue': { base: [196, 220, 240], top: [208, 230, 248], bottom: [184, 208, 230] },
  beige: { base: [232, 218, 190], top: [240, 228, 204], bottom: [222, 206, 176] },
};

/**
 * Minimum Euclidean RGB distance between a shape's fill and the background base: a white square on a
 * white background would be invisible, and its caption a lie.
 */
export const MIN_CONTRAST = 100;

/**
 * The shapes' distance functions in shape units (1 unit = the object's `r`): every shape lies in [-1, 1]^2,
 * so the layout can treat objects as squares of side 2r, and spans most of it, so sizes look comparable.
 */
const SHAPE_SDF: Readonly<Record<ShapeName, Sdf>> = {
  circle: sdCircle(0.92),
  square: sdBox(0.8, 0.8),
  // Equilateral, pointing up: side 2, height 1.732, centred on its bounding box.
  triangle: sdPolygon([0, -0.866, 1, 0.866, -1, 0.866]),
  // Five-pointed star, outer radius 1, inner 0.45, point up, shifted down 0.095 to centre it vertically.
  // Literal vertices (not cos/sin at load time) keep the geometry bit-identical in every engine.
  star: sdPolygon([
    0, -0.905, 0.264503, -0.269058, 0.951057, -0.214017, 0.427975, 0.234058, 0.587785, 0.904017, 0, 0.545,
    -0.587785, 0.904017, -0.427975, 0.234058, -0.951057, -0.214017, -0.264503, -0.269058,
  ]),
  heart: sdHeart(),
  // Plus sign, arms 0.6 wide.
  cross: sdPolygon([
    -0.3, -0.9, 0.3, -0.9, 0.3, -0.3, 0.9, -0.3, 0.9, 0.3, 0.3, 0.3, 0.3, 0.9, -0.3, 0.9, -0.3, 0.3, -0.9,
    0.3, -0.9, -0.3, -0.3, -0.3,
  ]),
};

/** One shape of a scene. Positions and radius are fractions of the image side (resolution-free). */
export interface SceneObject {
  shape: ShapeName;
  colour: ColourName;
  size: SizeName;
  /** Cell of the 3 x 3 layout grid: column 0 = left .. 2 = right, row 0 = top .. 2 = bottom. */
  col: number;
  row: number;
  /** Centre, in [0, 1] (x to the right, y down). */
  x: number;
  y: number;
  /** Half-extent: the shape lies inside the square of side 2r around its centre. */
  r: number;
}

export interface SceneSpec {
  background: BackgroundName;
  /** 1-3 objects in distinct grid cells, no two overlapping; objects[0] is the caption's subject. */
  objects: SceneObject[];
}

/** Centres of the 3 x 3 layout grid: far enough apart (0.33) that two large shapes never touch. */
export const GRID = [0.17, 0.5, 0.83] as const;
/** Radius ranges (fractions of the image side): a large shape is about twice a small one. */
export const RADIUS: Readonly<Record<SizeName, readonly [number, number]>> = {
  small: [0.075, 0.09],
  large: [0.135, 0.15],
};
const JITTER = 0.025;
const GAP = 0.02;
const MARGIN = 0.02;

function rgbDistance(a: Rgb, b: Rgb): number {
  const dr = a[0] - b[0];
  const dg = a[1] - b[1];
  const db = a[2] - b[2];
  return Math.sqrt(dr * dr + dg * dg + db * db);
}

/** Whether `colour` stands out enough on `background` to be drawn there. */
export function contrasts(colour: ColourName, background: BackgroundName): boolean {
  return rgbDistance(COLOUR_RGB[colour], BACKGROUND_RGB[background].base) >= MIN_CONTRAST;
}

function overlaps(a: SceneObject, b: SceneObject): boolean {
  const reach = a.r + b.r + GAP;
  return Math.abs(a.x - b.x) < reach && Math.abs(a.y - b.y) < reach;
}

/**
 * Draws `n` scene specifications deterministically from `seed`: 1-3 objects each (uniformly), distinct
 * (shape, colour) pairs within a scene (so every caption names one object unambiguously), distinct grid
 * cells with a little jitter, no overlaps, and a background that contrasts with every object.
 */
export function makeSceneSpecs(n: number, seed: number): SceneSpec[] {
  if (!(Number.isInteger(n) && n >= 0)) throw new Error(`scene count must be an integer >= 0, got ${n}`);
  const rng = new Rng(seed);
  const specs: SceneSpec[] = [];
  for (let i = 0; i < n; i++) {
    const count = 1 + rng.int(3);
    let kinds: { shape: ShapeName; colour: ColourName; size: SizeName }[] = [];
    let fits: BackgroundName[] = [];
    // Redraw the objects in the rare case that no background suits them all (black, white and purple).
    while (fits.length === 0) {
      kinds = [];
      while (kinds.length < count) {
        const k = { shape: SHAPES[rng.int(SHAPES.length)], colour: COLOURS[rng.int(COLOURS.length)] };
        if (kinds.some((o) => o.shape === k.shape && o.colour === k.colour)) continue;
        kinds.push({ ...k, size: SIZES[rng.int(SIZES.length)] });
      }
      fits = BACKGROUNDS.filter((bg) => kinds.every((o) => contrasts(o.colour, bg)));
    }
    const background = fits[rng.int(fits.length)];
    specs.push({ background, objects: placeObjects(rng, kinds) });
  }
  return specs;
}

/**
 * Puts the objects on distinct cells of the 3 x 3 grid, jittered, re-drawing until no two overlap. The
 * grid, not free positions, so that every position and relation word is clear-cut in the pixels.
 */
function placeObjects(
  rng: Rng,
  kinds: { shape: ShapeName; colour: ColourName; size: SizeName }[],
): SceneObject[] {
  const radii = kinds.map((k) => {
    const [lo, hi] = RADIUS[k.size];
    return lo + (hi - lo) * rng.next();
  });
  for (let attempt = 0; ; attempt++) {
    // Jitter is dropped after many failed attempts: at the grid centres nothing can overlap.
    const jitter = attempt < 50 ? JITTER : 0;
    const cells = rng.shuffle(Array.from({ length: 9 }, (_, c) => c));
    const objects = kinds.map((k, i): SceneObject => {
      const col = cells[i] % 3;
      const row = Math.floor(cells[i] / 3);
      const r = radii[i];
      const lo = r + MARGIN;
      const hi = 1 - r - MARGIN;
      const clamp = (v: number) => Math.min(hi, Math.max(lo, v));
      const x = clamp(GRID[col] + jitter * (2 * rng.next() - 1));
      const y = clamp(GRID[row] + jitter * (2 * rng.next() - 1));
      return { ...k, col, row, x, y, r };
    });
    const ok = objects.every((a, i) => objects.every((b, j) => j <= i || !overlaps(a, b)));
    if (ok) return objects;
  }
}

/**
 * Renders a scene into a `size` x `size` RGB image: background gradient, then each object with a soft
 * drop shadow. Pure and deterministic: the same spec and size give the same bytes in every JS engine.
 */
export function renderScene(spec: SceneSpec, size = 224): RgbBuffer {
  const img = createImage(size, size);
  const bg = BACKGROUND_RGB[spec.background];
  fillVerticalGradient(img, bg.top, bg.bottom);
  const shadow: Rgb = [0, 0, 0];
  const shadowOffset = 0.012 * size;
  for (const o of spec.objects) {
    const placement = { cx: o.x * size, cy: o.y * size, scale: o.r * size };
    const sdf = SHAPE_SDF[o.shape];
    drawShape(img, sdf, placement, shadow, {
      opacity: 0.22,
      offsetX: shadowOffset * 0.6,
      offsetY: shadowOffset,
      soften: 0.02 * size,
    });
    drawShape(img, sdf, placement, COLOUR_RGB[o.colour]);
  }
  return img;
}

/** "on the left", "in the top right", "in the centre", ... from an object's grid cell. */
export function positionPhrase(o: Pick<SceneObject, 'col' | 'row'>): string {
  const h = ['left', '', 'right'][o.col];
  const v = ['top', '', 'bottom'][o.row];
  if (h && v) return `in the ${v} ${h}`;
  if (h) return `on the ${h}`;
  if (v) return `at the ${v}`;
  return 'in the centre';
}

/**
 * Where `a` is relative to `b` ("left of", "right of", "above", "below"), along the axis on which their
 * grid cells differ more (horizontal on a tie). Grid cells are 0.33 apart and jitter at most 0.025, so
 * the words always agree with the pixel positions.
 */
export function relationPhrase(a: SceneObject, b: SceneObject): string {
  const dc = b.col - a.col;
  const dr = b.row - a.row;
  if (dc !== 0 && Math.abs(dc) >= Math.abs(dr)) return dc > 0 ? 'left of' : 'right of';
  if (dr !== 0) return dr > 0 ? 'above' : 'below';
  throw new Error('two objects of a scene share a grid cell');
}

const COUNT_WORDS = ['a shape', 'two shapes', 'three shapes'];

/**
 * Six captions of a scene, from general to specific; every one is true of the scene and names only
 * objects (and their attributes, positions, relations, background) that are in it. With A, B, C the
 * scene's objects:
 *
 * - 1 object: "a shape", "a circle", "a red circle", "a large red circle",
 *   "a large red circle on the left", "a large red circle on the left, on a grey background";
 * - 2 objects: "two shapes", "a red circle", "a red circle and a blue square",
 *   "a large red circle and a small blue square", "a large red circle left of a small blue square",
 *   the same ", on a grey background";
 * - 3 objects: "three shapes", "a red circle", "a red circle, a blue square and a green star",
 *   "a large red circle left of a small blue square", "a large red circle, a small blue square and a
 *   small green star", "a large red circle left of a small blue square, and a small green star at the
 *   bottom".
 *
 * The general ones (the count, a single object's colour and shape) are shared by many images, the
 * specific ones by few: that is the partial order the model is meant to learn.
 */
export function captionsFor(spec: SceneSpec): string[] {
  const objs = spec.objects;
  if (objs.length < 1 || objs.length > 3) throw new Error(`a scene has 1-3 objects, got ${objs.length}`);
  const [a, b, c] = objs;
  // With the article: "a red circle", "an orange star".
  const art = (words: string) => (/^[aeiou]/.test(words) ? `an ${words}` : `a ${words}`);
  const cs = (o: SceneObject) => art(`${o.colour} ${o.shape}`);
  const scs = (o: SceneObject) => art(`${o.size} ${o.colour} ${o.shape}`);
  const onBg = `on a ${spec.background} background`;
  if (!b)
    return [
      COUNT_WORDS[0],
      art(a.shape),
      cs(a),
      scs(a),
      `${scs(a)} ${positionPhrase(a)}`,
      `${scs(a)} ${positionPhrase(a)}, ${onBg}`,
    ];
  const rel = `${scs(a)} ${relationPhrase(a, b)} ${scs(b)}`;
  if (!c)
    return [
      COUNT_WORDS[1],
      cs(a),
      `${cs(a)} and ${cs(b)}`,
      `${scs(a)} and ${scs(b)}`,
      rel,
      `${rel}, ${onBg}`,
    ];
  return [
    COUNT_WORDS[2],
    cs(a),
    `${cs(a)}, ${cs(b)} and ${cs(c)}`,
    rel,
    `${scs(a)}, ${scs(b)} and ${scs(c)}`,
    `${rel}, and ${scs(c)} ${positionPhrase(c)}`,
  ];
}

export interface ScenesOptions {
  numImages: number;
  seed: number;
  /** Fraction of the images in the dev split (the last ones); default 1/6 (1200 -> 1000 train / 200 dev). */
  devFraction?: number;
}

/** The defaults of the built-in set and its pack: 1200 scenes (1000 train, 200 dev) from seed 1. */
export const SCENES_DEFAULTS: Readonly<Required<ScenesOptions>> = {
  numImages: 1200,
  seed: 1,
  devFraction: 1 / 6,
};

/**
 * Bumped whenever a change to the specs, the rendering or the captions makes earlier packs stale; packs
 * record it (with the seed and count) so that a loader can tell a stale pack from a current one.
 */
export const SCENES_VERSION = 1;

/** Name of scene i in packs and the UI: `scene-0007`. */
export function sceneName(i: number): string {
  return `scene-${String(i).padStart(4, '0')}`;
}

/** The scenes' specs, names, captions and train/dev splits, everything but the image features. */
export interface SceneSet {
  specs: SceneSpec[];
  images: string[];
  captions: Dataset['captions'];
  splits: { train: number[]; dev: number[] };
}

/**
 * The specs of `makeSceneSpecs(numImages, seed)` with their captions and splits: the last `devFraction`
 * of the images form the dev split, the rest train (1200 -> 1000 / 200).
 */
export function makeSceneSet(opts: ScenesOptions): SceneSet {
  const { numImages, seed, devFraction = SCENES_DEFAULTS.devFraction } = opts;
  if (!(Number.isInteger(numImages) && numImages >= 2))
    throw new Error(`scenes dataset: numImages must be an integer >= 2, got ${numImages}`);
  const specs = makeSceneSpecs(numImages, seed);
  const captions: Dataset['captions'] = [];
  specs.forEach((spec, image) => {
    for (const text of captionsFor(spec)) captions.push({ image, text });
  });
  const nDev = Math.min(numImages - 1, Math.max(1, Math.round(numImages * devFraction)));
  const all = Array.from({ length: numImages }, (_, i) => i);
  return {
    specs,
    images: all.map(sceneName),
    captions,
    splits: { train: all.slice(0, numImages - nDev), dev: all.slice(numImages - nDev) },
  };
}

/**
 * The scenes as a model `Dataset`: captions and splits of {@link makeSceneSet} (regenerated from the
 * seed, so a pack only needs the features to be trusted), features given by the caller (row-major
 * [numImages, featureDim], extracted by `encoderId` from `renderScene` of the same specs).
 */
export function scenesDataset(
  opts: ScenesOptions,
  features: Float32Array,
  featureDim: number,
  encoderId: string,
): Dataset {
  const { numImages } = opts;
  if (!(Number.isInteger(featureDim) && featureDim > 0))
    throw new Error(`scenes dataset: featureDim must be a positive integer, got ${featureDim}`);
  if (features.length !== numImages * featureDim)
    throw new Error(
      `scenes dataset: expected ${numImages} x ${featureDim} = ${numImages * featureDim} feature values ` +
        `(encoder ${encoderId}), got ${features.length}`,
    );
  const { captions, splits } = makeSceneSet(opts);
  return { name: `scenes (${encoderId})`, imageDim: featureDim, features, numImages, captions, splits };
}
