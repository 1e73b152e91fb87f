/**
 * Transitive closure of a hierarchy (a DAG given by each node's direct parents), with the number of
 * distinct upward paths behind each closure pair.
 *
 * The paths matter for reproducing the paper: its Torch code built the closure by concatenating the
 * ancestor lists of a node's parents without removing repeats, so a pair (x, y) appears once per distinct
 * hypernym path from x up to y. On WordNet 3.1 that list has 838,073 pairs -- the paper's "838,073 edges" --
 * for 743,746 unique ones (on WordNet 3.0: 837,888 for 743,241). `expandByPaths` rebuilds that list.
 */
import type { Hierarchy } from './parse';

/** Closure pairs (x is-a y, x != y), grouped by hyponym x in node order: x's rows are start[x]..start[x+1]. */
export interface Closure {
  /** Number of nodes. */
  n: number;
  hypo: Int32Array;
  hyper: Int32Array;
  /** Distinct hypernym paths from hypo[k] up to hyper[k] (all 1 on a tree); empty if not counted. */
  paths: Float64Array;
  start: Int32Array;
}

/** Parents-before-children order; throws naming a node on a cycle. */
export function topologicalOrder(h: Hierarchy): number[] {
  const n = h.names.length;
  const state = new Uint8Array(n); // 0 new, 1 on the stack, 2 done
  const order: number[] = [];
  for (let root = 0; root < n; root++) {
    if (state[root] !== 0) continue;
    // Iterative DFS towards the parents, emitting a node once all its parents are emitted.
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const [v, k] = top;
      const ps = h.parents[v];
      if (k < ps.length) {
        top[1]++;
        const p = ps[k];
        if (p < 0 || p >= n) throw new Error(`node ${h.names[v]}: parent index ${p} is out of range`);
        if (state[p] === 1)
          throw new Error(`the hierarchy has a cycle through ${h.names[p]} and ${h.names[v]}`);
        if (state[p] === 0) {
          state[p] = 1;
          stack.push([p, 0]);
        }
      } else {
        state[v] = 2;
        order.push(v);
        stack.pop();
      }
    }
  }
  return order;
}

/**
 * All pairs (x, y) with y reachable from x through parents, and (with `countPaths`) the number of
 * distinct paths: paths(x, y) = sum over parents p of x of [p = y] + paths(p, y).
 */
export function transitiveClosure(h: Hierarchy, opts: { countPaths?: boolean } = {}): Closure {
  const n = h.names.length;
  const countPaths = opts.countPaths ?? true;
  const anc: Int32Array[] = new Array(n);
  const cnt: Float64Array[] = new Array(n);
  const acc = new Float64Array(n); // path counts of the node being processed, by ancestor
  const touched: number[] = [];
  for (const x of topologicalOrder(h)) {
    const add = (y: number, c: number) => {
      if (acc[y] === 0) touched.push(y);
      acc[y] += c;
    };
    for (const p of h.parents[x]) {
      add(p, 1);
      const pa = anc[p];
      const pc = cnt[p];
      for (let k = 0; k < pa.length; k++) add(pa[k], countPaths ? pc[k] : 1);
    }
    touched.sort((a, b) => a - b);
    anc[x] = Int32Array.from(touched);
    cnt[x] = Float64Array.from(touched, (y) => acc[y]);
    for (const y of touched) acc[y] = 0;
    touched.length = 0;
  }
  const start = new Int32Array(n + 1);
  for (let x = 0; x < n; x++) start[x + 1] = start[x] + anc[x].length;
  const total = start[n];
  const hypo = new Int32Array(total);
  const hyper = new Int32Array(total);
  const paths = new Float64Array(countPaths ? total : 0);
  for (let x = 0; x < n; x++) {
    hypo.fill(x, start[x], start[x + 1]);
    hyper.set(anc[x], start[x]);
    if (countPaths) paths.set(cnt[x], start[x]);
  }
  return { n, hypo, hyper, paths, start };
}

/** Ancestors of x (sorted node indices). */
export function ancestorsOf(c: Closure, x: number): Int32Array {
  return c.hyper.subarray(c.start[x], c.start[x + 1]);
}

/** Descendant lists of every node (sorted), the closure read the other way. */
export function descendantLists(c: Closure): Int32Array[] {
  const counts = new Int32Array(c.n);
  for (let k = 0; k < c.hyper.length; k++) counts[c.hyper[k]]++;
  const out = Array.from({ length: c.n }, (_, y) => new Int32Array(counts[y]));
  const fill = new Int32Array(c.n);
  for (let k = 0; k < c.hyper.length; k++) out[c.hyper[k]][fill[c.hyper[k]]++] = c.hypo[k];
  return out;
}

/** Number key of the ordered pair (x, y) among n nodes (exact in a double for n < 2^26). */
export const pairKey = (x: number, y: number, n: number): number => x * n + y;

/** The closure's pairs as a set of pair keys, for membership tests. */
export function closureKeys(c: Closure): Set<number> {
  const s = new Set<number>();
  for (let k = 0; k < c.hypo.length; k++) s.add(pairKey(c.hypo[k], c.hyper[k], c.n));
  return s;
}

/** The paper's closure list: each unique pair repeated once per distinct path (see the file comment). */
export function expandByPaths(c: Closure): { hypo: Int32Array; hyper: Int32Array } {
  if (c.paths.length !== c.hypo.length)
    throw new Error('expandByPaths: the closure was built without path counts');
  let total = 0;
  for (let k = 0; k < c.paths.length; k++) total += c.paths[k];
  const hypo = new Int32Array(total);
  const hyper = new Int32Array(total);
  let o = 0;
  for (let k = 0; k < c.hypo.length; k++) {
    for (let r = 0; r < c.paths[k]; r++, o++) {
      hypo[o] = c.hypo[k];
      hyper[o] = c.hyper[k];
    }
  }
  return { hypo, hyper };
}

/** The hierarchy whose direct edges are the given pairs (x is-a y), e.g. to close a training set. */
export function hierarchyOfPairs(names: string[], hypo: Int32Array, hyper: Int32Array): Hierarchy {
  const parents: number[][] = names.map(() => []);
  for (let k = 0; k < hypo.length; k++) parents[hypo[k]].push(hyper[k]);
  return { names, parents };
}

/**
 * The sub-hierarchy below `root` (root and all its descendants), re-indexed with the root first;
 * edges to parents outside it are dropped (`dog.n.01` keeps `canine.n.02` but loses
 * `domestic_animal.n.01` under `mammal.n.01`). `ids[i]` is the node's index in `h`.
 */
export function subHierarchy(h: Hierarchy, root: number): Hierarchy & { ids: number[] } {
  const children: number[][] = h.names.map(() => []);
  h.parents.forEach((ps, x) => ps.forEach((p) => children[p].push(x)));
  const local = new Map<number, number>([[root, 0]]);
  const ids = [root];
  for (let q = 0; q < ids.length; q++) {
    for (const c of children[ids[q]]) {
      if (!local.has(c)) {
        local.set(c, ids.length);
        ids.push(c);
      }
    }
  }
  return {
    ids,
    names: ids.map((i) => h.names[i]),
    parents: ids.map((i) => h.parents[i].filter((p) => local.has(p)).map((p) => local.get(p)!)),
  };
}
