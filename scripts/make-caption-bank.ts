/**
 * Writes the caption bank of the pretrained starter model, the sentences the playground ranks for a
 * user's own photo (its 10 best captions):
 *
 *   npm run make-caption-bank -- [--vocab-from <run folder>] [--data <flickr8k folder>] [--seed S] [--out file]
 *
 * The sentences are ours, composed over the hand-written grammar below (subjects, attributes, actions
 * that fit their subjects, places that fit their actions), never copied from Flickr8k: its captions are
 * for research use only and stay out of the repository. They are written in the style of Flickr8k's
 * captions (lower case, tokens separated by spaces, a final " .") at several levels of detail, each
 * sentence next to its generalisations, so the bank also shows the partial order at work:
 *
 *   a dog .  /  a black dog .  /  a black dog runs .  /  a black dog runs through the snow .
 *
 * Level of detail = the slots filled: the subject (1), an adjective (+1), an attribute after the noun
 * such as "in a red shirt" (+1), the action (+1), the place (+1); so levels 1 to 5. Every sentence of
 * level >= 2 is composed together with its shorter prefixes ("a black dog runs ." with "a black dog .").
 * The composition is deterministic for a given seed (src/model/rng.ts).
 *
 * Checks, before anything is written:
 * - every word must be in the starter's vocabulary: the `vocab` of a run folder's config.json
 *   (--vocab-from), else the vocabulary rebuilt from a Flickr8k folder's training captions exactly as the
 *   trainer builds it (--data; src/model/tokenizer.ts with the trainer's minimum word count). An unknown
 *   word stops the script, naming the sentence and the word;
 * - no sentence may be identical to a Flickr8k caption (compared as tokens, so case and punctuation do
 *   not matter): those are dropped and counted. This needs the Flickr8k captions: --data, by default
 *   $ORDEREMBED_SHARED/data/flickr8k or ../shared/data/flickr8k.
 *
 * File format (public/starter/caption-bank.txt), UTF-8, one item a line:
 * - lines starting with `#` are comments; the first one is the header
 *   `# orderembed-caption-bank v1 seed=<S> sentences=<N> dropped=<D>` (D: composed sentences dropped as
 *   identical to a Flickr8k caption);
 * - every other non-empty line is one caption, e.g. `a black dog runs through the snow .`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommand } from './cli/options';
import { MAKE_CAPTION_BANK } from './cli/commands';
import { parseCaptionFile } from '../src/model/data/flickr8k';
import { Rng } from '../src/model/rng';
import { tokenize, Vocabulary } from '../src/model/tokenizer';
import { DEFAULT_TRAIN } from '../src/model/trainer';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const DEFAULT_BANK_PATH = path.join(repoRoot, 'public', 'starter', 'caption-bank.txt');
export const DEFAULT_SEED = 8;
const HEADER = /^# orderembed-caption-bank v1 seed=(\d+) sentences=(\d+) dropped=(\d+)$/;

// ---------------------------------------------------------------------------------------------------
// The grammar

/** A subject noun: `det` (a / two / a group of / nothing) + optional adjective + `head`. */
interface Noun {
  det: string;
  head: string;
  plural: boolean;
}

/**
 * An action: `verb` as 'third person singular/plural/-ing' ('runs/run/running'), then `object`
 * ('with a ball', 'a frisbee'), then one of `places` (the most detailed slot: where, or what to).
 */
interface Action {
  verb: string;
  object?: string;
  places: string[];
  /** Only for singular or only for plural subjects ("chase each other"). */
  only?: 'singular' | 'plural';
  /** Attributes that do not go with this action ("a dog with a stick in its mouth catches a frisbee"). */
  clashes?: RegExp;
}

interface SubjectGroup {
  nouns: Noun[];
  /** Go between the determiner and the noun: "a black dog", "two black dogs". */
  adjectives: string[];
  /** Go after the noun of singular subjects: "a dog with a red collar". */
  details: string[];
  /** Go after the noun of plural subjects ("two dogs with red collars"); `details` when absent. */
  pluralDetails?: string[];
  actions: Action[];
}

const sg = (head: string): Noun => ({ det: 'a', head, plural: false });
const pl = (det: string, head: string): Noun => ({ det, head, plural: true });
/** A list written as one string, items separated by ', ' (one line per list keeps the grammar readable). */
const list = (items: string): string[] => (items.trim() ? items.trim().split(/\s*,\s*/) : []);
/**
 * An action from one line, 'verb forms [object]: place, place, ...', e.g.
 * 'plays/play/playing with a ball: on the grass, in a park' (no place after the colon: none).
 */
function act(spec: string, only?: Action['only']): Action {
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
const except = (action: Action, clashes: RegExp): Action => ({ ...action, clashes });
/** What the mouth of an animal is busy with. */
const MOUTH = /mouth/;

const WALK = act(
  'walks/walk/walking: down the street, along the beach, through the park, on the sidewalk, across a bridge, through the snow, along a path, up a hill',
);
const RUN = act(
  'runs/run/running: on the beach, across a field, through the park, down the street, along the shore, on a track, through the water',
);
const STAND = act(
  'stands/stand/standing: on the sidewalk, in front of a building, on a rock, on the beach, in the snow, near the water, on a bridge',
);
const SIT = act(
  'sits/sit/sitting: on a bench, on the grass, on a rock, on the steps, by the water, at a table',
);
const JUMP = act(
  'jumps/jump/jumping: into the water, into a pool, off a rock, on a trampoline, into the air, over a puddle',
);
/** Clothes and things one does not swim with. */
const DRESSED = /jacket|backpack|purse|sunglasses|dress|hat|costume|helmet|uniform/;
const SWIM = except(act('swims/swim/swimming: in a pool, in the ocean, in a lake, in the water'), DRESSED);
const PLAY = act(
  'plays/play/playing: in the water, in the snow, in the sand, on the grass, in a fountain, on the playground',
);
const PLAY_BALL = act('plays/play/playing with a ball: on the grass, in a park, on the beach, in the yard');
const PLAY_SOCCER = act('plays/play/playing soccer: on a field, in a park, on the grass, on the beach');
const RIDE_BIKE = act(
  'rides/ride/riding a bike: down the street, along a path, through the park, down a hill, on a dirt road',
);
const RIDE_HORSE = act('rides/ride/riding a horse: through a field, on the beach, along a trail');
const CLIMB = act('climbs/climb/climbing: a rock, a rock wall, a tree, a hill, a mountain');
const SMILE = act('smiles/smile/smiling: at the camera, on the beach, in the snow');
const POSE = act(
  'poses/pose/posing for a picture: in front of a building, on the beach, in the snow, on a mountain',
);
const THROW_BALL = act('throws/throw/throwing a ball: on the beach, in a park, to a dog, across a field');
const HIKE = act('hikes/hike/hiking: up a mountain, through the woods, along a trail, in the mountains');
const DANCE = act('dances/dance/dancing: on a stage, in the street, at a party');
const GUITAR = act('plays/play/playing the guitar: on a stage, on the street, in a park');
const READ = act('reads/read/reading a book: on a bench, in a park, on the grass');
const PICTURE = act('takes/take/taking a picture: of the ocean, of the mountains, on the beach');
const FISH = act('fishes/fish/fishing: in a lake, in the river, from a boat');
const SLIDE = act('slides/slide/sliding down a slide: on the playground, in a park');
const SWING = act('swings/swing/swinging on a swing: on the playground, in a park, in the yard');
const SPLASH = except(act('splashes/splash/splashing: in the water, in a fountain, in a pool'), DRESSED);
const BUBBLES = act('blows/blow/blowing bubbles: in the yard, in a park, on the grass');

const PEOPLE_ACTIONS = [
  WALK,
  RUN,
  STAND,
  SIT,
  JUMP,
  SWIM,
  PLAY_BALL,
  RIDE_BIKE,
  CLIMB,
  SMILE,
  POSE,
  THROW_BALL,
];
const ADULT_ACTIONS = [...PEOPLE_ACTIONS, RIDE_HORSE, HIKE, DANCE, GUITAR, READ, PICTURE, FISH];
const KID_ACTIONS = [...PEOPLE_ACTIONS, PLAY, PLAY_SOCCER, SLIDE, SWING, SPLASH, BUBBLES];

const PEOPLE_GROUPS: SubjectGroup[] = [
  {
    nouns: [sg('man'), sg('guy')],
    adjectives: list('young, older, smiling, bald, tall'),
    details: list(
      'in a red shirt, in a blue shirt, in a white shirt, in a black jacket, wearing a hat, wearing sunglasses, with a beard, with a backpack',
    ),
    actions: ADULT_ACTIONS,
  },
  {
    nouns: [sg('woman'), sg('lady')],
    adjectives: list('young, older, smiling, blond, tall'),
    details: list(
      'in a red dress, in a white dress, in a pink shirt, in a black jacket, wearing a hat, wearing sunglasses, with a purse, with a backpack',
    ),
    actions: ADULT_ACTIONS,
  },
  {
    nouns: [sg('boy')],
    adjectives: list('little, young, small, smiling, blond'),
    details: list(
      'in a red shirt, in a blue shirt, in a green shirt, in a striped shirt, in shorts, wearing a hat, wearing a helmet',
    ),
    actions: KID_ACTIONS,
  },
  {
    nouns: [sg('girl')],
    adjectives: list('little, young, small, smiling, blond'),
    details: list(
      'in a pink dress, in a white dress, in a pink shirt, in a purple shirt, in a striped shirt, wearing a hat, with a backpack',
    ),
    actions: KID_ACTIONS,
  },
  {
    nouns: [sg('child'), sg('toddler')],
    adjectives: list('little, young, small, smiling'),
    details: list('in a red shirt, in a yellow shirt, in a blue jacket, wearing a hat, in shorts'),
    actions: KID_ACTIONS,
  },
  {
    nouns: [
      pl('', 'people'),
      pl('two', 'men'),
      pl('two', 'women'),
      pl('a group of', 'people'),
      pl('two', 'boys'),
      pl('two', 'girls'),
      pl('', 'children'),
      pl('a group of', 'children'),
    ],
    adjectives: list('young, smiling'),
    details: list('in costumes, in uniforms, wearing hats, with backpacks, in jackets'),
    actions: [...PEOPLE_ACTIONS, DANCE, PLAY_SOCCER, PLAY, HIKE],
  },
];

const SPORT_GROUPS: SubjectGroup[] = [
  {
    nouns: [sg('skier'), pl('two', 'skiers')],
    adjectives: list('young'),
    details: list('in a red jacket, in a blue jacket, in a yellow jacket, wearing a helmet, wearing goggles'),
    pluralDetails: list('in red jackets, wearing helmets'),
    actions: [
      act(
        'skis/ski/skiing: down a hill, down a snowy slope, down the mountain, through the snow, through the trees',
      ),
      act('jumps/jump/jumping: into the air, off a ramp, over a jump'),
      act('stands/stand/standing: on a snowy hill, in the snow, on top of a mountain'),
    ],
  },
  {
    nouns: [sg('snowboarder')],
    adjectives: list('young'),
    details: list('in a red jacket, in a black jacket, wearing a helmet, wearing goggles'),
    actions: [
      act('jumps/jump/jumping: into the air, off a ramp, over the snow'),
      act('does/do/doing a trick: in the air, on a rail, off a ramp'),
      act('rides/ride/riding: down a hill, down a snowy slope, down the mountain'),
      act('slides/slide/sliding: down a rail, down a hill'),
    ],
  },
  {
    nouns: [sg('climber'), sg('rock climber'), pl('two', 'climbers')],
    adjectives: list('young'),
    details: list('wearing a helmet, in a red shirt, in a blue shirt, with a rope'),
    pluralDetails: list('wearing helmets, with ropes'),
    actions: [
      act('climbs/climb/climbing: a rock, a rock wall, a cliff, up a rock, a mountain'),
      act('hangs/hang/hanging: from a rock, from a cliff, from a rope'),
      act('reaches/reach/reaching for a rock: on a cliff, on a rock wall'),
      act('stands/stand/standing: on top of a mountain, on a rock, on a cliff, on a ledge'),
    ],
  },
  {
    nouns: [sg('biker'), sg('cyclist'), pl('two', 'bikers'), pl('a group of', 'bikers')],
    adjectives: list('young'),
    details: list('wearing a helmet, in a red jersey, in a black helmet, in a blue shirt'),
    pluralDetails: list('wearing helmets, in jerseys'),
    actions: [
      act(
        'rides/ride/riding: down a hill, down a dirt path, through the woods, along a road, on a track, through the mud, down the street',
      ),
      act('jumps/jump/jumping: into the air, over a hill, off a ramp, over a log'),
      act('races/race/racing: down a road, on a track, down a hill, around a corner'),
      act('does/do/doing a trick: in the air, on a ramp'),
    ],
  },
  {
    nouns: [sg('surfer'), pl('two', 'surfers')],
    adjectives: list('young'),
    details: list('in a black wetsuit, in a blue wetsuit, wearing a wetsuit'),
    pluralDetails: list('in wetsuits'),
    actions: [
      act('rides/ride/riding a wave: in the ocean, on a surfboard'),
      act('surfs/surf/surfing: in the ocean, on a big wave, on a wave'),
      act('paddles/paddle/paddling: in the ocean, through the water, on a surfboard'),
      act('carries/carry/carrying a surfboard: on the beach, into the water, along the shore'),
      act('falls/fall/falling: off a surfboard, into the water'),
    ],
  },
  {
    nouns: [sg('skateboarder'), pl('two', 'skateboarders')],
    adjectives: list('young'),
    details: list('in a red shirt, in a black shirt, wearing a helmet, wearing a cap'),
    pluralDetails: list('wearing helmets'),
    actions: [
      act('rides/ride/riding a skateboard: down the street, down a ramp, in a skate park, on the sidewalk'),
      act('does/do/doing a trick: on a ramp, in the air, on a rail, at a skate park'),
      act('jumps/jump/jumping: into the air, over a bench, down some stairs, off a ramp'),
    ],
  },
  {
    nouns: [sg('soccer player'), pl('two', 'soccer players')],
    adjectives: list('young'),
    details: list('in a red uniform, in a white uniform, in a blue uniform'),
    pluralDetails: list('in red uniforms, in blue uniforms'),
    actions: [
      act('kicks/kick/kicking the ball: on a field, across the field, toward the goal'),
      act('runs/run/running: after the ball, down the field, on a field'),
    ],
  },
  {
    nouns: [sg('football player'), pl('two', 'football players')],
    adjectives: list('young'),
    details: list('in a red uniform, in a white uniform, wearing a helmet'),
    pluralDetails: list('in red uniforms, in white uniforms'),
    actions: [
      act('runs/run/running with the ball: down the field, on a field'),
      act('catches/catch/catching the ball: on the field, in the air'),
      act('tackles/tackle/tackling another player: on the field'),
    ],
  },
  {
    nouns: [sg('basketball player'), pl('two', 'basketball players')],
    adjectives: list('young'),
    details: list('in a red uniform, in a white uniform, in a blue uniform'),
    pluralDetails: list('in red uniforms, in white uniforms'),
    actions: [
      act('jumps/jump/jumping: into the air, for the ball, toward the basket'),
      act('shoots/shoot/shooting the ball: on a court, toward the basket'),
      act('runs/run/running: after the ball, down the court'),
    ],
  },
  {
    nouns: [sg('tennis player')],
    adjectives: list('young'),
    details: list('in a white shirt, in a red shirt, wearing a cap'),
    actions: [
      act('hits/hit/hitting the ball: on a court, with a racket'),
      act('swings/swing/swinging a racket: on a court, at the ball'),
      act('runs/run/running: after the ball, on a court'),
    ],
  },
  {
    nouns: [sg('baseball player')],
    adjectives: list('young'),
    details: list('in a red uniform, in a white uniform, wearing a helmet'),
    actions: [
      act('swings/swing/swinging a bat: at the ball'),
      act('throws/throw/throwing the ball: to first base, across the field'),
      act('runs/run/running: to first base, after the ball'),
    ],
  },
];

const DOG_SG_DETAILS = list(
  'with a red collar, with a blue collar, with a stick in its mouth, with a ball in its mouth, with a toy in its mouth',
);

const ANIMAL_GROUPS: SubjectGroup[] = [
  {
    nouns: [sg('dog'), sg('puppy'), pl('two', 'dogs'), pl('three', 'dogs')],
    adjectives: list('black, brown, white, small, large, wet, tan, fluffy, spotted'),
    details: DOG_SG_DETAILS,
    pluralDetails: list('with collars, with red collars'),
    actions: [
      act(
        'runs/run/running: through the snow, on the grass, across a field, on the beach, through the water, in a park, along the shore, through the grass',
      ),
      act('jumps/jump/jumping: over a fence, into the water, into the air, over a log, into a pool'),
      act('swims/swim/swimming: in the water, in a lake, in a pool, in the river, in the ocean'),
      except(
        act('plays/play/playing with a ball: on the grass, in the yard, in the snow, on the beach'),
        MOUTH,
      ),
      except(
        act('catches/catch/catching a frisbee: in the air, on the grass, on the beach, in a park'),
        MOUTH,
      ),
      except(
        act('chases/chase/chasing a ball: across the grass, on the beach, through the snow, in the yard'),
        MOUTH,
      ),
      except(act('carries/carry/carrying a stick: through the water, on the beach, across the grass'), MOUTH),
      act('digs/dig/digging: in the sand, in the snow, in the dirt'),
      act('lies/lie/lying: on the grass, on the floor, on a couch, in the snow'),
      act('sits/sit/sitting: on the grass, in the snow, on the porch, on a chair'),
      act('walks/walk/walking: on the beach, in the snow, through the grass, along the road'),
      act('plays/play/playing: in the snow, in the water, on the grass, in the sand'),
      except(act('barks/bark/barking: at another dog, at a cat'), MOUTH),
      act('play/play/playing together: on the grass, in the snow, on the beach', 'plural'),
      act(
        'chase/chase/chasing each other: on the grass, in the snow, on the beach, through the water',
        'plural',
      ),
    ],
  },
  {
    nouns: [sg('cat'), sg('kitten'), pl('two', 'cats')],
    adjectives: list('black, white, grey, orange, small'),
    details: list('with green eyes, with a red collar'),
    pluralDetails: list('with green eyes'),
    actions: [
      act('sits/sit/sitting: on a chair, on the floor, on a couch, on a bed, in a box'),
      act('lies/lie/lying: on a bed, on the floor, on a blanket, in the sun, on a couch'),
      act('plays/play/playing with a toy: on the floor, on a bed'),
      act('sleeps/sleep/sleeping: on a bed, on a couch, in the sun', 'singular'),
      act('looks/look/looking out the window: '),
    ],
  },
  {
    nouns: [sg('horse'), sg('pony'), pl('two', 'horses')],
    adjectives: list('brown, white, black, large'),
    details: list('with a rider, with a white face'),
    pluralDetails: list('with riders'),
    actions: [
      act('runs/run/running: across a field, through a field, on the beach, through the snow'),
      act('jumps/jump/jumping: over a fence, over an obstacle, over a hurdle, over a log'),
      act('walks/walk/walking: across a field, along the beach, down a path, through the snow'),
      act('eats/eat/eating grass: in a field, near a fence'),
      act('stands/stand/standing: in a field, in the snow, near a fence, by a barn'),
    ],
  },
  {
    nouns: [sg('bird'), sg('seagull'), pl('two', 'birds'), pl('', 'birds')],
    adjectives: list('white, black, large, small'),
    details: list('with long legs, with a fish in its mouth'),
    pluralDetails: list('with long legs'),
    actions: [
      act('flies/fly/flying: over the water, over the ocean, above the trees, in the sky, over the beach'),
      act('sits/sit/sitting: on a branch, on a rock, on a fence, on a post'),
      act('stands/stand/standing: on the sand, in the water, on a rock, on the beach'),
      act('walks/walk/walking: along the shore, on the beach, on the sand'),
      act('lands/land/landing: on the water, on a rock'),
    ],
  },
];

export const SUBJECT_GROUPS: readonly SubjectGroup[] = [...PEOPLE_GROUPS, ...SPORT_GROUPS, ...ANIMAL_GROUPS];

// ---------------------------------------------------------------------------------------------------
// Composition

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

// ---------------------------------------------------------------------------------------------------
// Checks, file format

/** A word of a sentence that the vocabulary lacks. */
export interface UnknownWord {
  sentence: string;
  word: string;
}

/** The words of the sentences that are not in the vocabulary (every occurrence, in order). */
export function unknownWords(sentences: readonly string[], vocab: Vocabulary): UnknownWord[] {
  return sentences.flatMap((sentence) =>
    tokenize(sentence)
      .filter((word) => !vocab.has(word))
      .map((word) => ({ sentence, word })),
  );
}

/** A caption's identity for the Flickr8k check: its tokens, so "A dog runs." matches "a dog runs ." */
export const captionKey = (text: string): string => tokenize(text).join(' ');

/** Splits the bank into the sentences kept and those identical (as tokens) to one of `captions`. */
export function dropFlickrCaptions(
  sentences: readonly string[],
  captions: readonly string[],
): { kept: string[]; dropped: string[] } {
  const keys = new Set(captions.map(captionKey));
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const s of sentences) (keys.has(captionKey(s)) ? dropped : kept).push(s);
  return { kept, dropped };
}

export interface CaptionBankFile {
  seed: number;
  dropped: number;
  sentences: string[];
}

export function formatCaptionBank(bank: CaptionBankFile): string {
  return (
    [
      `# orderembed-caption-bank v1 seed=${bank.seed} sentences=${bank.sentences.length} dropped=${bank.dropped}`,
      '# composed by scripts/make-caption-bank.ts (npm run make-caption-bank); one caption a line',
      ...bank.sentences,
    ].join('\n') + '\n'
  );
}

/** Parses a bank file; throws naming `name` and the line when the header is missing or inconsistent. */
export function parseCaptionBank(text: string, name = 'caption bank'): CaptionBankFile {
  const lines = text.split(/\r?\n/);
  const header = HEADER.exec(lines[0] ?? '');
  if (!header)
    throw new Error(
      `${name}, line 1: expected the header '# orderembed-caption-bank v1 seed=<S> sentences=<N> dropped=<D>', got ${JSON.stringify(lines[0])}`,
    );
  const sentences = lines.map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (sentences.length !== Number(header[2]))
    throw new Error(
      `${name}: the header announces ${header[2]} sentences, the file holds ${sentences.length}`,
    );
  return { seed: Number(header[1]), dropped: Number(header[3]), sentences };
}

// ---------------------------------------------------------------------------------------------------
// Command line

/** The Flickr8k folder of the shared data directory, when it exists. */
export function defaultFlickrDir(): string | undefined {
  const env = process.env.ORDEREMBED_SHARED;
  const shared = env && env.trim() !== '' ? path.resolve(env) : path.resolve(repoRoot, '..', 'shared');
  const dir = path.join(shared, 'data', 'flickr8k');
  return existsSync(dir) ? dir : undefined;
}

/** The vocabulary of a run folder's config.json (`vocab`); errors name the file. */
export function vocabularyFromRun(dir: string): Vocabulary {
  const file = path.join(dir, 'config.json');
  if (!existsSync(file)) throw new Error(`${file}: no such file (expected a run folder with a config.json)`);
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  try {
    return Vocabulary.fromJSON((config as { vocab?: unknown }).vocab);
  } catch (e) {
    throw new Error(`${file}, field 'vocab': ${(e as Error).message}`);
  }
}

/**
 * A Flickr8k folder's vocabulary, built as the trainer builds it (src/model/trainer.ts): the captions of
 * the training split's photos, read by the same code as `train --data <folder>`, with the trainer's
 * default minimum word count. Also returns every caption of the caption file, for the identity check.
 */
export async function flickrVocabulary(dir: string): Promise<{ vocab: Vocabulary; captions: string[] }> {
  const { readFlickrFolder } = await import('./lib/flickr-folder');
  const folder = readFlickrFolder(dir);
  const train = folder.data.splits.train;
  if (!train?.length)
    throw new Error(`${dir}: no training split (Flickr_8k.trainImages.txt) to build the vocabulary`);
  const inTrain = new Set(train);
  const texts = folder.data.captions.filter((c) => inTrain.has(c.image)).map((c) => c.text);
  const vocab = Vocabulary.build(texts, { minCount: DEFAULT_TRAIN.minWordCount });
  const file = { name: path.basename(folder.captionsPath), text: readFileSync(folder.captionsPath, 'utf8') };
  return { vocab, captions: parseCaptionFile(file).rows.map((r) => r.caption) };
}

async function main(): Promise<void> {
  const { values: a } = parseCommand(MAKE_CAPTION_BANK);
  const seed = a.seed ?? DEFAULT_SEED;
  const dataDir = a.data ?? defaultFlickrDir();
  if (!dataDir)
    throw new Error(
      `the Flickr8k captions are needed to drop sentences identical to one of them: give --data <flickr8k folder>`,
    );
  const flickr = await flickrVocabulary(dataDir);
  const vocabFrom = a['vocab-from'];
  const vocab = vocabFrom ? vocabularyFromRun(vocabFrom) : flickr.vocab;
  const vocabName = vocabFrom ? `${vocabFrom}/config.json` : `the training captions of ${dataDir}`;

  const composed = composeCaptionBank(seed);
  const unknown = unknownWords(
    composed.map((s) => s.text),
    vocab,
  );
  if (unknown.length) {
    const shown = unknown.slice(0, 20).map((u) => `  ${JSON.stringify(u.sentence)}: '${u.word}'`);
    throw new Error(
      `${unknown.length} word(s) not in the vocabulary of ${vocabName} (${vocab.size} words); nothing written:\n${shown.join('\n')}` +
        (unknown.length > 20 ? `\n  ... (${unknown.length} in all)` : ''),
    );
  }
  const { kept, dropped } = dropFlickrCaptions(
    composed.map((s) => s.text),
    flickr.captions,
  );
  const out = a.out === undefined ? DEFAULT_BANK_PATH : path.resolve(a.out);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, formatCaptionBank({ seed, dropped: dropped.length, sentences: kept }));

  const keptSet = new Set(kept);
  const levels = new Map<number, number>();
  for (const s of composed) if (keptSet.has(s.text)) levels.set(s.level, (levels.get(s.level) ?? 0) + 1);
  const byLevel = [...levels.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([l, n]) => `level ${l}: ${n}`)
    .join(', ');
  process.stdout.write(
    `${out}: ${kept.length} sentences (${byLevel}); composed ${composed.length}, ` +
      `${dropped.length} dropped as identical to a Flickr8k caption of ${dataDir}; ` +
      `every word in the vocabulary of ${vocabName} (${vocab.size} words)\n`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`make-caption-bank: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
