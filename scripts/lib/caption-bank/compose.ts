/**
 * Composes the caption bank over the grammar (./grammar.ts, ./subjects.ts), deterministically for a seed
 * (src/model/rng.ts). Level of detail = the slots filled: the subject (1), an adjective (+1), an attribute
 * after the noun such as "in a red shirt" (+1), the action (+1), the place (+1); so levels 1 to 5.
 */
import { Rng } from '../../../src/model/rng';
import type { Action, Noun } from './grammar';
import { SUBJECT_GROUPS } from './subjects';

export const DEFAULT_SEED = 8;

/** A composed sentence and its level of detail (1 = subject only ... 5 = every slot filled). */
export interface BankSentence {
  text: string;
  level: number;
}

/** "a" before a consonant, "an" before a vowel ("an older man", "an orange cat"). */
function article(det: string, next: string): string {
  return det === 'a' && /^[aeiou]/.test(next) ? 'an' : det;
}

function nounPhrase(noun: Noun, adjective: string, detail: string): string {
  const body = [adjective, noun.head].filter(Boolean).join(' ');
  return [article(noun.det, body), body, detail].filter(Boolean).join(' ');
}

/** The verb phrase in simple present ('runs') or present progressive ('is running'). */
function verbPhrase(noun: Noun, action: Action, progressive: boolean): string {
  const [singular, plural, ing] = action.verb.split('/') as [string, string, string];
  const verb = progressive ? `${noun.plural ? 'are' : 'is'} ${ing}` : noun.plural ? plural : singular;
  return [verb, action.object].filter(Boolean).join(' ');
}

/** The actions that go with an attribute. */
function fitting(actions: readonly Action[], detail: string): Action[] {
  return actions.filter((a) => !a.clashes?.test(detail));
}

/** k distinct items of `items`, in their original order (k >= length: all of them). */
function pick<T>(rng: Rng, items: readonly T[], k: number): T[] {
  if (k >= items.length) return [...items];
  const idx = rng.shuffle(items.map((_, i) => i)).slice(0, k);
  return idx.sort((a, b) => a - b).map((i) => items[i]!);
}

/**
 * Composes the bank, deterministically for a seed, in reading order: each subject, then its
 * specialisations. For each noun:
 * - the noun alone, every action in both tenses, and every (action, place) in one tense drawn at random;
 * - with each adjective and with each attribute: the phrase alone and a few actions, some with a place;
 * - a few (adjective, attribute) pairs, each with an action and a place.
 * Every sentence comes with its prefixes (the phrase alone, the phrase with its action), and a sentence
 * composed twice is kept once.
 */
export function composeCaptionBank(seed: number = DEFAULT_SEED): BankSentence[] {
  const rng = new Rng(seed);
  const out: BankSentence[] = [];
  const seen = new Set<string>();
  const add = (words: string, level: number) => {
    const text = `${words} .`;
    if (seen.has(text)) return;
    seen.add(text);
    out.push({ text, level });
  };
  /** A phrase of level `base` with one action (and maybe a place), prefixes first. */
  const withAction = (
    np: string,
    base: number,
    noun: Noun,
    action: Action,
    progressive: boolean,
    place?: string,
  ) => {
    const vp = `${np} ${verbPhrase(noun, action, progressive)}`;
    add(vp, base + 1);
    if (place) add(`${vp} ${place}`, base + 2);
  };
  /** `n` random actions of the phrase, each with a place with probability `pPlace`. */
  const someActions = (
    np: string,
    base: number,
    noun: Noun,
    actions: Action[],
    n: number,
    pPlace: number,
  ) => {
    for (const action of pick(rng, actions, n)) {
      const place =
        action.places.length && rng.next() < pPlace ? action.places[rng.int(action.places.length)] : '';
      withAction(np, base, noun, action, rng.next() < 0.5, place);
    }
  };

  for (const group of SUBJECT_GROUPS) {
    for (const noun of group.nouns) {
      const actions = group.actions.filter((a) => a.only !== (noun.plural ? 'singular' : 'plural'));
      const details = noun.plural ? (group.pluralDetails ?? group.details) : group.details;
      const bare = nounPhrase(noun, '', '');
      add(bare, 1);
      for (const action of actions) {
        for (const progressive of [false, true]) withAction(bare, 1, noun, action, progressive);
        for (const place of action.places) withAction(bare, 1, noun, action, rng.next() < 0.5, place);
      }
      for (const adjective of group.adjectives) {
        const np = nounPhrase(noun, adjective, '');
        add(np, 2);
        someActions(np, 2, noun, actions, 4, 0.6);
      }
      for (const detail of details) {
        const np = nounPhrase(noun, '', detail);
        add(np, 2);
        someActions(np, 2, noun, fitting(actions, detail), 4, 0.6);
      }
      const pairs = group.adjectives.flatMap((adj) => details.map((det) => [adj, det] as const));
      for (const [adjective, detail] of pick(rng, pairs, 3)) {
        const np = nounPhrase(noun, adjective, detail);
        add(np, 3);
        someActions(np, 3, noun, fitting(actions, detail), 1, 1);
      }
    }
  }
  return out;
}
