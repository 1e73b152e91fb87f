/**
 * Ranks candidate captions for dropped photos (./photos.ts): a caption bank, the loaded dataset's
 * captions, or lines the user typed, with the "nothing fits" verdict of the run's calibration.
 */
import type { Retriever } from '../model/retrieval';
import type { LoadedDataset } from './datasets';
import { MAX_QUERY_CHARS } from './protocol';
import {
  MAX_PHOTOS_PER_REQUEST,
  MAX_TYPED_CANDIDATES,
  type CandidateSource,
  type PhotoRanking,
  type RankPhotosArgs,
} from './photos-protocol';
import { encodePhotos, resolve, type PhotosContext } from './photos-models';

/** The candidate texts of a loaded dataset (one array per dataset, so retrievers can keep embeddings). */
const datasetTexts = new WeakMap<LoadedDataset, string[]>();

/** Distinct caption texts of the loaded dataset's retrieval gallery (dev split, or all). */
function datasetCandidates(loaded: LoadedDataset, r: Retriever): string[] {
  let texts = datasetTexts.get(loaded);
  if (!texts) {
    texts = r.galleryCaptions().map((k) => loaded.dataset.captions[k].text);
    datasetTexts.set(loaded, texts);
  }
  return texts;
}

/** The candidate lines the user typed; throws for an empty list. */
export function typedCandidates(typed: string | undefined): string[] {
  const lines = (typed ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (!lines.length)
    throw new Error('the list of candidate captions is empty: type at least one caption, one a line');
  if (lines.length > MAX_TYPED_CANDIDATES)
    throw new Error(`${lines.length} candidate captions; at most ${MAX_TYPED_CANDIDATES} are accepted`);
  const long = lines.findIndex((l) => l.length > MAX_QUERY_CHARS);
  if (long >= 0)
    throw new Error(
      `candidate caption ${long + 1} is ${lines[long].length} characters long; at most ${MAX_QUERY_CHARS}`,
    );
  return lines;
}

export async function rank(ctx: PhotosContext, req: RankPhotosArgs): Promise<void> {
  const { runId, photos, source } = req;
  if (!photos.length) throw new Error('no photo was given');
  if (photos.length > MAX_PHOTOS_PER_REQUEST)
    throw new Error(
      `${photos.length} photos at once; at most ${MAX_PHOTOS_PER_REQUEST} (drop a folder on the gallery instead)`,
    );
  const typed = source === 'typed' ? typedCandidates(req.typed) : null;
  if (!(await ctx.ensureBackend())) throw new Error('no tfjs backend');
  const m = await resolve(ctx, runId, source === 'dataset');
  let candidates: readonly string[];
  if (source === 'bank') {
    if (!m.bank) throw new Error(m.bankProblem ?? 'no caption bank');
    candidates = m.bank;
  } else if (source === 'dataset') {
    candidates = datasetCandidates(ctx.loaded()!, m.retriever);
  } else candidates = typed!;
  // Distinct before any cut; throws when none has a word the model knows.
  const list = m.retriever.candidates(candidates);
  ctx.post({ kind: 'rankProgress', runId, done: 0, total: photos.length });
  const { features, errors } = await encodePhotos(m.preset, photos, ctx.baseUrl(), (done, total) =>
    ctx.post({ kind: 'rankProgress', runId, done, total }),
  );
  const F = m.preset.featureDim;
  const ok = photos.map((_, i) => i).filter((i) => !errors.has(i));
  const good = new Float32Array(ok.length * F);
  ok.forEach((i, row) => good.set(features.subarray(i * F, (i + 1) * F), row * F));
  // Bank and dataset candidates are used through the very same array each time, so a caching
  // retriever keeps their embeddings; typed lines are embedded per query.
  const ranked = ok.length
    ? await m.retriever.rankTexts(good, ok.length, source === 'typed' ? list : candidates, req.limit)
    : [];
  // "Nothing fits" is judged on the bank (the calibrated reference) when the run has one, else on the
  // dataset's captions; a few typed lines are no reference.
  const threshold = m.calibration?.nothingFits ?? null;
  let judged: (number | null)[] = ranked.map((r) => (source === 'typed' ? null : (r[0]?.energy ?? null)));
  if (source === 'typed' && m.bank && ok.length && threshold !== null)
    judged = (await m.retriever.rankTexts(good, ok.length, m.bank, 1)).map((r) => r[0]?.energy ?? null);
  const results: PhotoRanking[] = photos.map((p, i) => {
    const row = ok.indexOf(i);
    if (row < 0) return { name: p.path, items: [], best: null, nothingFits: false, error: errors.get(i) };
    const items = ranked[row];
    const best = judged[row];
    return {
      name: p.path,
      items,
      best: items[0]?.energy ?? null,
      nothingFits: threshold !== null && best !== null && best > threshold,
    };
  });
  if (!ok.length) throw new Error(results.map((r) => r.error).join('; '));
  ctx.post({
    kind: 'ranked',
    runId,
    source: source satisfies CandidateSource,
    candidates: list.texts.length,
    repeated: list.repeated,
    unknownOnly: list.unknownOnly,
    unknownWords: list.unknownWords,
    nothingFits: threshold,
    results,
  });
}
