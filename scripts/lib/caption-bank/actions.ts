/** The actions of the caption bank's grammar (./grammar.ts), each with the places that fit it. */
import { act, except } from './grammar';

/** What the mouth of an animal is busy with. */
export const MOUTH = /mouth/;

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
export const PLAY = act(
  'plays/play/playing: in the water, in the snow, in the sand, on the grass, in a fountain, on the playground',
);
const PLAY_BALL = act('plays/play/playing with a ball: on the grass, in a park, on the beach, in the yard');
export const PLAY_SOCCER = act(
  'plays/play/playing soccer: on a field, in a park, on the grass, on the beach',
);
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
export const HIKE = act(
  'hikes/hike/hiking: up a mountain, through the woods, along a trail, in the mountains',
);
export const DANCE = act('dances/dance/dancing: on a stage, in the street, at a party');
const GUITAR = act('plays/play/playing the guitar: on a stage, on the street, in a park');
const READ = act('reads/read/reading a book: on a bench, in a park, on the grass');
const PICTURE = act('takes/take/taking a picture: of the ocean, of the mountains, on the beach');
const FISH = act('fishes/fish/fishing: in a lake, in the river, from a boat');
const SLIDE = act('slides/slide/sliding down a slide: on the playground, in a park');
const SWING = act('swings/swing/swinging on a swing: on the playground, in a park, in the yard');
const SPLASH = except(act('splashes/splash/splashing: in the water, in a fountain, in a pool'), DRESSED);
const BUBBLES = act('blows/blow/blowing bubbles: in the yard, in a park, on the grass');

export const PEOPLE_ACTIONS = [
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
export const ADULT_ACTIONS = [...PEOPLE_ACTIONS, RIDE_HORSE, HIKE, DANCE, GUITAR, READ, PICTURE, FISH];
export const KID_ACTIONS = [...PEOPLE_ACTIONS, PLAY, PLAY_SOCCER, SLIDE, SWING, SPLASH, BUBBLES];
