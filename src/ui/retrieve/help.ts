/** Short explanations shown as help text and tooltips where these terms appear. */
export const HELP = {
  energy:
    'Order-violation energy E(photo, caption) = Σ max(0, caption − photo)²: 0 when the caption lies below the photo in every coordinate (it is implied by it); lower fits better.',
  margin:
    'Margin: how far (in energy) a matching pair must beat a non-matching one during training before the loss stops pushing them apart.',
  recallAtK:
    'R@K: the share of queries whose right answer is among the top K results (image → caption: a photo’s own caption; caption → image: the caption’s photo).',
  rsum: 'R-sum: R@1 + R@5 + R@10 in both directions (at most 600); one number to compare runs by.',
  nothingFits:
    'The best caption’s energy is above what 99 in 100 photos of the dataset the model was trained on get: the photo is unlike what the model knows, so its captions are guesses.',
  general:
    'In an order embedding a more general sentence lies below a more specific one in every coordinate, so E(specific → general) is about 0 and the reverse is large.',
} as const;
