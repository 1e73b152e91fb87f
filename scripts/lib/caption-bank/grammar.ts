/**
 * The caption bank's grammar, its shapes and how it is written (scripts/make-caption-bank.ts): a subject
 * noun with adjectives and attributes, actions that fit their subjects, places that fit their actions.
 * The words themselves are in ./actions.ts and ./subjects.ts.
 */
/** A subject noun: `det` (a / two / a group of / nothing) + optional adjective + `head`. */
export interface Noun {
  det: string;
  head: string;
  plural: boolean;
}

/**
 * An action: `verb` as 'third person singular/plural/-ing' ('runs/run/running'), then `object`
 * ('with a ball', 'a frisbee'), then one of `places` (the most detailed slot: where, or what to).
 */
export interface Action {
  verb: string;
  object?: string;
  places: string[];
  /** Only for singular or only for plural subjects ("chase each other"). */
  only?: 'singular' | 'plural';
  /** Attributes that do not go with this action ("a dog with a stick in its mouth catches a frisbee"). */
  clashes?: RegExp;
}

export interface SubjectGroup {
  nouns: Noun[];
  /** Go between the determiner and the noun: "a black dog", "two black dogs". */
  adjectives: string[];
  /** Go after the noun of singular subjects: "a dog with a red collar". */
  details: string[];
  /** Go after the noun of plural subjects ("two dogs with red collars"); `details` when absent. */
  pluralDetails?: string[];
  actions: Action[];
}

export const sg = (head: string): Noun => ({ det: 'a', head, plural: false });
export const pl = (det: string, head: string): Noun => ({ det, head, plural: true });
/** A list written as one string, items separated by ', ' (one line per list keeps the grammar readable). */
export const list = (items: string): string[] => (items.trim() ? items.trim().split(/\s*,\s*/) : []);
/**
 * An action from one line, 'verb forms [object]: place, place, ...', e.g.
 * 'plays/play/playing with a ball: on the grass, in a park' (no place after the colon: none).
 */
export function act(spec: string, only?: Action['only']): Action {
  const colon = spec.indexOf(':');
  if (colon < 0)
    throw new Error(`caption grammar: action ${JSON.stringify(spec)} has no ':' before its places`);
  const [verb, ...object] = spec.slice(0, colon).trim().split(' ');
  if (verb!.split('/').length !== 3)
    throw new Error(
      `caption grammar: action ${JSON.stringify(spec)} needs 'singular/plural/-ing' verb forms`,
    );
  return { verb: verb!, object: object.join(' '), places: list(spec.slice(colon + 1)), only };
}
/** `action`, not to be said of a subject with an attribute matching `clashes`. */
export const except = (action: Action, clashes: RegExp): Action => ({ ...action, clashes });
