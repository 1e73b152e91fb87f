/**
 * The hand-made WordNet excerpt in ./fixture (data.noun and index.noun in the real format), and what its
 * closure must be. Edges (x is-a y):
 *
 *   entity <- physical_entity <- organism <- animal <- dog, cat.n.01 (the animal)
 *   entity <- abstraction
 *   physical_entity <- causal_agent
 *   organism, causal_agent <- person <- cat.n.02 ("guy")     (two parents: two paths to the top)
 *   physical_entity <- location <- city <-(instance) paris
 *
 * index.noun lists cat's animal sense (offset 00000010) first, so it is cat.n.01 although its offset
 * comes after the person sense's: names follow the index, not the file order.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseWordNetNouns, type WordNetNouns } from '../../src/model/wordnet/parse';
import { repoRoot } from '../helpers/shared';

export const FIXTURE_DIR = path.join(repoRoot, 'tests', 'wordnet', 'fixture');

export function fixtureText(file: 'data.noun' | 'index.noun'): string {
  return readFileSync(path.join(FIXTURE_DIR, file), 'utf8');
}

export function loadFixture(): WordNetNouns {
  return parseWordNetNouns(
    { text: fixtureText('data.noun'), source: 'data.noun' },
    { text: fixtureText('index.noun'), source: 'index.noun' },
  );
}

/** Every ancestor of every node, by name (the unique closure: 35 pairs). */
export const FIXTURE_ANCESTORS: Record<string, string[]> = {
  'entity.n.01': [],
  'physical_entity.n.01': ['entity.n.01'],
  'abstraction.n.01': ['entity.n.01'],
  'organism.n.01': ['physical_entity.n.01', 'entity.n.01'],
  'causal_agent.n.01': ['physical_entity.n.01', 'entity.n.01'],
  'person.n.01': ['organism.n.01', 'causal_agent.n.01', 'physical_entity.n.01', 'entity.n.01'],
  'animal.n.01': ['organism.n.01', 'physical_entity.n.01', 'entity.n.01'],
  'dog.n.01': ['animal.n.01', 'organism.n.01', 'physical_entity.n.01', 'entity.n.01'],
  'cat.n.02': ['person.n.01', 'organism.n.01', 'causal_agent.n.01', 'physical_entity.n.01', 'entity.n.01'],
  'cat.n.01': ['animal.n.01', 'organism.n.01', 'physical_entity.n.01', 'entity.n.01'],
  'location.n.01': ['physical_entity.n.01', 'entity.n.01'],
  'city.n.01': ['location.n.01', 'physical_entity.n.01', 'entity.n.01'],
  'paris.n.01': ['city.n.01', 'location.n.01', 'physical_entity.n.01', 'entity.n.01'],
};

/** Pairs with two hypernym paths (through organism and through causal_agent); all others have one. */
export const FIXTURE_TWO_PATHS = [
  ['person.n.01', 'physical_entity.n.01'],
  ['person.n.01', 'entity.n.01'],
  ['cat.n.02', 'physical_entity.n.01'],
  ['cat.n.02', 'entity.n.01'],
];
