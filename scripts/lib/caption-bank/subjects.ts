/**
 * The subjects of the caption bank's grammar (./grammar.ts): people, people at sport, animals, each group
 * with its adjectives, attributes and the actions (./actions.ts) that fit it.
 */
import { act, except, list, pl, sg, type SubjectGroup } from './grammar';
import { MOUTH, PLAY, PLAY_SOCCER, HIKE, DANCE, PEOPLE_ACTIONS, ADULT_ACTIONS, KID_ACTIONS } from './actions';

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
