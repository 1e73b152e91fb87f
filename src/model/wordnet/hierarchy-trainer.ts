/**
 * Step-by-step training of 2-D order embeddings of a small hierarchy, for the live view
 * (src/ui/hierarchy/HierarchyView.tsx): a Web Worker builds it from a subtree such as `mammal.n.01` and
 * its descendants, calls `stepOf()` in a loop and posts what `view()` reads (asynchronously: the worker
 * may train on WebGPU, where a synchronous read stalls the queue). `step()` and `points()` read
 * synchronously, for Node (experiments, tests).
 *
 * Same model, energy and loss as the WordNet experiment (./model.ts): f(u) = |w_u| in R^2_+, "x is-a y"
 * reads f(x) >= f(y) in both coordinates, so every node lies above and to the right of all its ancestors
 * in a plot with the usual axes (origin bottom-left); the most general node sits nearest the origin. All
 * closure pairs are positives (nothing is held out: the aim is the picture), and negatives are
 * corruptions filtered against the closure.
 */
import type * as tf from '../tf';
import { readAndDispose } from '../ops';
import { Rng } from '../rng';
import { closureKeys, descendantLists, subHierarchy, transitiveClosure, type Closure } from './closure';
import { PairEmbeddings } from './model';
import { corrupt } from './protocols';
import { nodeIndex, type Hierarchy } from './parse';

export interface HierarchyPoint {
  id: number;
  name: string;
  x: number;
  y: number;
}

export interface HierarchyTrainerOptions {
  /** Positive pairs per step (each with one corrupted pair); all pairs when fewer. Default 256. */
  batch?: number;
  /** Adam learning rate, default 0.01. */
  learningRate?: number;
  /** Hinge margin alpha, default 1. */
  margin?: number;
  seed?: number;
  /** Embedding size; 2 for the plot (default), more for experiments. */
  dim?: number;
}

export class HierarchyTrainer {
  readonly hierarchy: Hierarchy;
  readonly closure: Closure;
  private readonly desc: Int32Array[];
  private readonly keys: Set<number>;
  private readonly model: PairEmbeddings;
  private readonly rng: Rng;
  private readonly order: number[];
  private readonly batch: number;
  private cursor: number;
  private steps = 0;

  /** Trains on `hierarchy` as given (node ids are its indices). */
  constructor(hierarchy: Hierarchy, opts: HierarchyTrainerOptions = {}) {
    this.hierarchy = hierarchy;
    this.closure = transitiveClosure(hierarchy, { countPaths: false });
    if (this.closure.hypo.length === 0)
      throw new Error(`HierarchyTrainer: the hierarchy of ${hierarchy.names.length} nodes has no is-a pairs`);
    this.desc = descendantLists(this.closure);
    this.keys = closureKeys(this.closure);
    this.rng = new Rng(opts.seed ?? 1);
    this.model = new PairEmbeddings({
      n: hierarchy.names.length,
      dim: opts.dim ?? 2,
      energy: 'order',
      margin: opts.margin ?? 1,
      learningRate: opts.learningRate ?? 0.01,
      seed: this.rng.seed(),
    });
    this.order = Array.from({ length: this.closure.hypo.length }, (_, i) => i);
    this.batch = Math.min(opts.batch ?? 256, this.order.length);
    this.cursor = this.order.length;
  }

  /** The subtree of `h` below the node named `root` (e.g. 'mammal.n.01'), root included. */
  static fromRoot(h: Hierarchy, root: string, opts: HierarchyTrainerOptions = {}): HierarchyTrainer {
    const sub = subHierarchy(h, nodeIndex(h, root));
    return new HierarchyTrainer({ names: sub.names, parents: sub.parents }, opts);
  }

  get size(): number {
    return this.hierarchy.names.length;
  }

  /** Number of is-a pairs (closure) trained on. */
  get pairs(): number {
    return this.closure.hypo.length;
  }

  get stepCount(): number {
    return this.steps;
  }

  /** One Adam step on a batch of is-a pairs and as many corrupted ones; returns the loss. */
  step(): number {
    return this.model.step(...this.nextBatch());
  }

  /** {@link step} with the loss left as a scalar on the backend, for the caller to read and free. */
  stepOf(): tf.Scalar {
    return this.model.stepOf(...this.nextBatch());
  }

  /** The next batch: B is-a pairs of the shuffled closure, then B corruptions of them. */
  private nextBatch(): [hypo: Int32Array, hyper: Int32Array, positive: Float32Array] {
    const B = this.batch;
    const hypo = new Int32Array(2 * B);
    const hyper = new Int32Array(2 * B);
    const positive = new Float32Array(2 * B).fill(1, 0, B);
    const n = this.size;
    for (let b = 0; b < B; b++) {
      if (this.cursor >= this.order.length) {
        this.rng.shuffle(this.order);
        this.cursor = 0;
      }
      const k = this.order[this.cursor++];
      hypo[b] = this.closure.hypo[k];
      hyper[b] = this.closure.hyper[k];
      [hypo[B + b], hyper[B + b]] = corrupt(hypo[b], hyper[b], n, this.rng, this.keys);
    }
    this.steps++;
    return [hypo, hyper, positive];
  }

  /** Current 2-D positions (the first two coordinates when dim > 2). */
  points(): HierarchyPoint[] {
    return this.pointsOf(this.model.embeddings());
  }

  /**
   * {@link points} and the {@link energies} of pairs (hypo, hyper), read asynchronously; both are taken
   * at once, so they are of the same step even if training goes on while they are read.
   */
  async view(
    hypo: Int32Array,
    hyper: Int32Array,
  ): Promise<{ points: HierarchyPoint[]; energies: Float32Array }> {
    const [f, energies] = await readAndDispose(
      this.model.embeddingsOf(), // [n, dim]
      this.model.energiesOf(hypo, hyper), // [m]
    );
    return { points: this.pointsOf(f), energies };
  }

  /** Positions from embeddings f, row-major [n, dim]. */
  private pointsOf(f: Float32Array): HierarchyPoint[] {
    const D = this.model.config.dim;
    return this.hierarchy.names.map((name, id) => ({ id, name, x: f[id * D], y: D > 1 ? f[id * D + 1] : 0 }));
  }

  /** Order-violation energies of pairs (hyponym, hypernym) under the current embeddings. */
  energies(hypo: Int32Array, hyper: Int32Array): Float32Array {
    return this.model.energies(hypo, hyper);
  }

  /** All more general nodes of `id` (sorted ids). */
  ancestors(id: number): number[] {
    this.check(id);
    return Array.from(this.closure.hyper.subarray(this.closure.start[id], this.closure.start[id + 1]));
  }

  /** All more specific nodes of `id` (sorted ids). */
  descendants(id: number): number[] {
    this.check(id);
    return Array.from(this.desc[id]);
  }

  /** Direct is-a edges [child, parent], e.g. to draw the tree. */
  edges(): [number, number][] {
    return this.hierarchy.parents.flatMap((ps, c) => ps.map((p): [number, number] => [c, p]));
  }

  dispose(): void {
    this.model.dispose();
  }

  private check(id: number): void {
    if (!(Number.isInteger(id) && id >= 0 && id < this.size))
      throw new Error(`HierarchyTrainer: node id ${id} is not in 0..${this.size - 1}`);
  }
}
