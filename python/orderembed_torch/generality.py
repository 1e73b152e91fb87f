"""Caption-to-caption order (`--generality-weight`): a caption's words, some left out, are more general.

The image-caption loss orders images below their captions (E(image, caption) ~ 0) but says nothing about
two sentences, so a model trained on it alone can read "a dog" and "a black dog runs on the grass" as
unrelated: both energies far from 0 (docs/results.md measures it). Vendrov et al. order every pair of the
visual-semantic hierarchy the same way; here the pairs come for free from the training captions: keep an
in-order subset of a caption's words ("a black dog runs on the grass" -> "a dog runs") and that shorter
sentence describes every photo the caption describes, so it must sit below the caption in every coordinate:

    E(c, g) = ||max(0, g - c)||^2 ~ 0                  (c a caption, g = generalize(c); g <= c)

The same contrastive hinge as image-caption pairs (model.contrastive_loss) over S[i, j] = -E(c_i, g_j),
with the other captions' generalizations as negatives, keeps unrelated sentences apart:

    L = L_image-caption + w * sum_ij [hinges of S]      (w = --generality-weight)

Which words are kept is drawn from a generator seeded by (seed, step, rank), so a resumed run draws the
same subsets. A caption of one word is its own generalization (E = 0 at any weights).

With k uniform in 1 .. L-1, a multi-step generalization such as "a black dog runs on the grass" -> "a dog"
(keep 2 of 7) is drawn for about 1 caption in 6 and its exact words far more rarely, and the trained model
reads such pairs as further apart than one-step ones. `--generality-short p` (0 < p <= 1) biases the draw
towards them: with probability p a caption keeps only k uniform in 1 .. min(SHORT_MAX, L-1) words, else k is
uniform in 1 .. L-1 as before (p unset: the same draws as before, so earlier runs replay).

Short generalizations are shared: "a dog" kept from one dog caption is also contained in every other dog
caption of the batch, yet the hinge above takes it as their negative and pushes E(other dog caption, "a dog")
up. `--generality-mask` leaves such false negatives out: the pair (c_i, g_j), j != i, is no negative when
g_j's words are an in-order subset of c_i's (contained_mask; one process only, as it needs the batch's words).

The hinge only asks E(c_i, g_i) to sit a margin below the negatives' energies, not near 0: with unrelated
sentences at E ~ 0.6, a contained pair at 0.43 costs nothing, yet the app's verdict reads it as unrelated.
`--generality-pull w` (w > 0) pulls each pair's own energy towards 0 (pull_loss):

    L += w * (1/B) sum_i E(c_i, g_i) = w * (1/B) sum_i ||max(0, g_i - c_i)||^2
"""

from __future__ import annotations

import torch

from .tokenizer import pad_time_major

SHORT_MAX = 3  # a short generalization keeps at most this many words ("a dog", "a dog runs")


def generalize(
    ids: torch.Tensor, lengths: torch.Tensor, generator: torch.Generator, short: float | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """ids [T, B] (time-major, padded), lengths [B] -> the generalizations (ids [T', B], lengths [B]):
    for a caption of L > 1 words, k words kept in order, k uniform in 1 .. L-1, the subset uniform; with
    `short` = p, k uniform in 1 .. min(SHORT_MAX, L-1) with probability p (one extra draw per caption)."""
    if ids.dim() != 2 or lengths.dim() != 1 or ids.shape[1] != lengths.shape[0]:
        raise ValueError(f"generalize: expected ids [T, B] and lengths [B], got {list(ids.shape)} and {list(lengths.shape)}")
    if short is not None and not 0 < short <= 1:
        raise ValueError(f"generalize: short must be in (0, 1], got {short}")
    out: list[list[int]] = []
    for b, n in enumerate(lengths.tolist()):
        words = ids[:n, b].tolist()  # [L]
        if n <= 1:
            out.append(words)
            continue
        top = n - 1  # the most words kept
        if short is not None and float(torch.rand((), generator=generator)) < short:
            top = min(SHORT_MAX, n - 1)
        k = int(torch.randint(1, top + 1, (1,), generator=generator))
        keep = torch.randperm(n, generator=generator)[:k].sort().values.tolist()  # k positions, in order
        out.append([words[i] for i in keep])
    return pad_time_major(out)


def generator_for(seed: int, step: int, rank: int) -> torch.Generator:
    """The generator of one process's draws at one step (the same after a resume)."""
    return torch.Generator().manual_seed((seed * 1_000_003 + step) * 64 + rank)


def _in_order_subset(small: list[int], big: list[int]) -> bool:
    it = iter(big)
    return all(w in it for w in small)  # `in` advances the iterator: each word found after the previous one


def contained_mask(ids: torch.Tensor, lengths: torch.Tensor, g_ids: torch.Tensor, g_lengths: torch.Tensor) -> torch.Tensor:
    """captions ids [T, B], lengths [B] and their generalizations g_ids [T', B], g_lengths [B] -> mask [B, B],
    True at (i, j), j != i, where generalization j's words are an in-order subset of caption i's words (so
    caption i contains it: no negative for the hinge)."""
    if ids.shape[1] != g_ids.shape[1] or lengths.shape != g_lengths.shape or lengths.shape[0] != ids.shape[1]:
        raise ValueError(f"contained_mask: captions {list(ids.shape)} / {list(lengths.shape)} and generalizations "
                         f"{list(g_ids.shape)} / {list(g_lengths.shape)} differ in batch size")
    caps = [ids[:n, b].tolist() for b, n in enumerate(lengths.tolist())]
    gens = [g_ids[:n, b].tolist() for b, n in enumerate(g_lengths.tolist())]
    B = len(caps)
    mask = torch.zeros(B, B, dtype=torch.bool)
    for i in range(B):
        for j in range(B):
            if i != j and _in_order_subset(gens[j], caps[i]):
                mask[i, j] = True
    return mask


def pull_loss(captions: torch.Tensor, generalizations: torch.Tensor) -> torch.Tensor:
    """captions [B, D], their generalizations [B, D] -> (1/B) sum_i ||max(0, g_i - c_i)||^2, the mean energy of
    each caption over its own generalization (--generality-pull)."""
    if captions.dim() != 2 or captions.shape != generalizations.shape:
        raise ValueError(f"pull_loss: expected captions and generalizations of one shape [B, D], got "
                         f"{list(captions.shape)} and {list(generalizations.shape)}")
    return (generalizations - captions).clamp(min=0).pow(2).sum(1).mean()
