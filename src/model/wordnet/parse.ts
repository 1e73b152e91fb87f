/**
 * WordNet noun hierarchy from the database files `data.noun` and `index.noun` (Princeton WordNet 3.x
 * format, wndb(5WN)). Plain string parsing with no Node APIs, so the browser can use it on fetched text;
 * scripts/lib/wordnet-files.ts reads the files in Node.
 *
 * data.noun, one synset per line (lines starting with two spaces are the license header):
 *
 *   offset lex_filenum ss_type w_cnt (word lex_id){w_cnt} p_cnt (symbol offset pos source/target){p_cnt} | gloss
 *
 * w_cnt is two hex digits, p_cnt three decimal digits. The hierarchy keeps the hypernym pointers `@` and
 * the instance-hypernym pointers `@i` (`Paris` is an instance of `national_capital`), as the paper's
 * preprocessing (NLTK's `hypernyms() + instance_hypernyms()`) did.
 *
 * Names follow NLTK's `Synset.name()`: `lemma.pos.NN` where lemma is the synset's first word, lower-cased,
 * and NN (two digits at least) is 1 + the position of the synset's offset in that lemma's list of noun
 * synset offsets in index.noun. index.noun lists a lemma's senses in WordNet sense-number order (most
 * frequent first), so the number matches the sense number of the lemma's sense key in index.sense; NLTK
 * reads index.noun, and so do we (nltk/corpus/reader/wordnet.py, `_synset_from_pos_and_line`).
 */

/** A DAG of named nodes: `parents[i]` are the direct generalizations (hypernyms) of node i. */
export interface Hierarchy {
  /** Node names, unique, e.g. `mammal.n.01`. */
  names: string[];
  /** Direct hypernyms of each node (indices into `names`), `@` and `@i` together. */
  parents: number[][];
}

/** The WordNet noun hierarchy with the details of where each node and edge came from. */
export interface WordNetNouns extends Hierarchy {
  /** The 8-digit synset offset of each node (its byte offset in data.noun). */
  offsets: string[];
  /** The synset's words in data.noun order (first one names the synset), e.g. ['dog', 'domestic_dog', 'Canis_familiaris']. */
  lemmas: string[][];
  /** `@` targets of each node (a subset of `parents`). */
  hypernyms: number[][];
  /** `@i` targets of each node (a subset of `parents`). */
  instanceHypernyms: number[][];
}

/** Where a text came from, for error messages (`data.noun`, or a full path). */
export interface SourceText {
  text: string;
  source: string;
}

interface RawSynset {
  offset: string;
  words: string[];
  hyper: string[];
  instance: string[];
  line: number;
}

function fail(source: string, line: number, what: string): never {
  throw new Error(`${source}, line ${line}: ${what}`);
}

/** Strips an adjective syntactic marker such as `(a)` or `(p)`, as NLTK does for every lemma. */
function bareLemma(word: string): string {
  const m = /^(.*?)(\(.*\))?$/.exec(word);
  return m ? m[1] : word;
}

function parseDataNoun({ text, source }: SourceText): RawSynset[] {
  const out: RawSynset[] = [];
  const lines = text.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const raw = lines[li].replace(/\r$/, '');
    if (raw.trim() === '' || raw.startsWith('  ')) continue;
    const lineNo = li + 1;
    const bar = raw.indexOf(' | ');
    const t = (bar >= 0 ? raw.slice(0, bar) : raw).trim().split(/ +/);
    const offset = t[0];
    if (!/^\d{8}$/.test(offset)) fail(source, lineNo, `expected an 8-digit synset offset, got '${offset}'`);
    if (t[2] !== 'n') fail(source, lineNo, `synset ${offset}: expected ss_type 'n', got '${t[2]}'`);
    const wCnt = parseInt(t[3], 16);
    if (!(wCnt > 0) || !/^[0-9a-f]+$/i.test(t[3]))
      fail(source, lineNo, `synset ${offset}: bad word count '${t[3]}'`);
    let i = 4;
    const words: string[] = [];
    for (let k = 0; k < wCnt; k++, i += 2) {
      if (t[i] === undefined) fail(source, lineNo, `synset ${offset}: line ends inside its ${wCnt} words`);
      words.push(bareLemma(t[i]));
    }
    const pCnt = Number(t[i++]);
    if (!Number.isInteger(pCnt) || pCnt < 0)
      fail(source, lineNo, `synset ${offset}: bad pointer count '${t[i - 1]}'`);
    const hyper: string[] = [];
    const instance: string[] = [];
    for (let k = 0; k < pCnt; k++, i += 4) {
      const [symbol, target, pos] = [t[i], t[i + 1], t[i + 2]];
      if (t[i + 3] === undefined)
        fail(source, lineNo, `synset ${offset}: line ends inside its ${pCnt} pointers`);
      if (symbol !== '@' && symbol !== '@i') continue;
      if (!/^\d{8}$/.test(target) || pos !== 'n')
        fail(source, lineNo, `synset ${offset}: bad ${symbol} pointer '${symbol} ${target} ${pos}'`);
      (symbol === '@' ? hyper : instance).push(target);
    }
    out.push({ offset, words, hyper, instance, line: lineNo });
  }
  if (out.length === 0) throw new Error(`${source}: no synset lines found (is this WordNet's data.noun?)`);
  return out;
}

/** index.noun -> lemma (lower case, as in the file) -> noun synset offsets in sense-number order. */
export function parseIndexNoun({ text, source }: SourceText): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const lines = text.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const raw = lines[li].replace(/\r$/, '');
    if (raw.trim() === '' || raw.startsWith('  ')) continue;
    // lemma pos synset_cnt p_cnt (ptr_symbol){p_cnt} sense_cnt tagsense_cnt (synset_offset){synset_cnt}
    const t = raw.trim().split(/ +/);
    const nSynsets = Number(t[2]);
    const nPointers = Number(t[3]);
    if (!Number.isInteger(nSynsets) || !Number.isInteger(nPointers))
      fail(source, li + 1, `expected 'lemma pos synset_cnt p_cnt ...', got '${raw.slice(0, 80)}'`);
    const start = 4 + nPointers + 2;
    const offsets = t.slice(start, start + nSynsets);
    if (offsets.length !== nSynsets || !offsets.every((o) => /^\d{8}$/.test(o)))
      fail(source, li + 1, `lemma '${t[0]}': expected ${nSynsets} 8-digit synset offsets`);
    if (t[1] === 'n') map.set(t[0], offsets);
  }
  if (map.size === 0) throw new Error(`${source}: no noun index lines found (is this WordNet's index.noun?)`);
  return map;
}

/** NLTK's synset name: first lemma, lower-cased; sense number from index.noun; `%02i` formatting. */
function synsetName(s: RawSynset, index: Map<string, string[]>, source: string, indexSource: string): string {
  const lemma = s.words[0].toLowerCase();
  const offsets = index.get(lemma);
  const at = offsets ? offsets.indexOf(s.offset) : -1;
  if (at < 0)
    fail(source, s.line, `synset ${s.offset}: its first lemma '${lemma}' does not list it in ${indexSource}`);
  return `${lemma}.n.${String(at + 1).padStart(2, '0')}`;
}

/**
 * Parses data.noun and index.noun into the noun hierarchy. Every pointer must name a synset of the file;
 * errors name the file and line.
 */
export function parseWordNetNouns(dataNoun: SourceText, indexNoun: SourceText): WordNetNouns {
  const raw = parseDataNoun(dataNoun);
  const index = parseIndexNoun(indexNoun);
  const byOffset = new Map<string, number>();
  raw.forEach((s, i) => {
    if (byOffset.has(s.offset)) fail(dataNoun.source, s.line, `synset ${s.offset} appears twice`);
    byOffset.set(s.offset, i);
  });
  const resolve = (s: RawSynset, targets: string[]): number[] =>
    targets.map((o) => {
      const j = byOffset.get(o);
      if (j === undefined) fail(dataNoun.source, s.line, `synset ${s.offset} points to unknown synset ${o}`);
      return j;
    });
  const names = raw.map((s) => synsetName(s, index, dataNoun.source, indexNoun.source));
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    const j = seen.get(n);
    if (j !== undefined)
      fail(dataNoun.source, raw[i].line, `synsets ${raw[j].offset} and ${raw[i].offset} are both named ${n}`);
    seen.set(n, i);
  });
  const hypernyms = raw.map((s) => resolve(s, s.hyper));
  const instanceHypernyms = raw.map((s) => resolve(s, s.instance));
  return {
    names,
    offsets: raw.map((s) => s.offset),
    lemmas: raw.map((s) => s.words),
    hypernyms,
    instanceHypernyms,
    parents: raw.map((_, i) => [...hypernyms[i], ...instanceHypernyms[i]]),
  };
}

/** Index of a node by name, with a message that names the hierarchy's size when it is missing. */
export function nodeIndex(h: Hierarchy, name: string): number {
  const i = h.names.indexOf(name);
  if (i < 0) throw new Error(`no node named '${name}' among the ${h.names.length} nodes`);
  return i;
}
