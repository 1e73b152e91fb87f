"""Command-line options of the PyTorch trainer (./train.py): one table, with the checks that need more than
one flag (exclusive flags, flags that need another, positive numbers)."""

from __future__ import annotations

import argparse
import math


def parse_args(argv: list[str] | None, description: str) -> argparse.Namespace:
    """The options of ./train.py, checked: a wrong value stops with argparse's message naming the flag."""
    p = argparse.ArgumentParser(prog="orderembed_torch.train", description=description)
    p.add_argument("--data", required=True, help="feature pack folder (docs/pack-format.md)")
    p.add_argument("--out", help="run folder to write at the end")
    p.add_argument("--steps", type=int, help="total optimisation steps (default 300)")
    p.add_argument("--epochs", type=int, help="instead of --steps: this many passes")
    p.add_argument("--batch", type=int, help="global batch B (default 128), split over the processes")
    p.add_argument("--hidden", type=int, help="GRU hidden size = joint space (default 256, as npm run train)")
    p.add_argument("--word-dim", type=int, help="word vector size (default 300)")
    p.add_argument("--ln", choices=["on", "off"], help="LN-GRU (on, default) or GRU")
    p.add_argument("--measure", choices=["order", "cosine"])
    p.add_argument("--margin", type=float)
    p.add_argument("--max-violation", action="store_true", default=None)
    p.add_argument("--max-violation-after", type=int, help="summed loss for N steps, then max-violation")
    p.add_argument("--lr", type=float, help="Adam learning rate (default 1e-3)")
    p.add_argument("--lr-decay-at", type=int, help="learning rate x --lr-decay (0.1) from this step on")
    p.add_argument("--lr-decay", type=float)
    p.add_argument("--clip-norm", type=float, help="global gradient norm (default 2)")
    p.add_argument("--sampling", choices=["image", "caption"])
    p.add_argument("--min-word-count", type=int)
    p.add_argument("--max-length", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--init", help="run folder to start from (same vocabulary and encoder)")
    p.add_argument("--average-from", type=int, help="Polyak averaging of the weights from this step on; exports the mean")
    p.add_argument("--distill-from", help="comma-separated run folders: distil from their ensemble's scores")
    p.add_argument("--distill-weight", type=float, help="weight of the distillation term (default 1)")
    p.add_argument("--distill-temperature", type=float, help="softmax temperature of the distillation term (default 0.05)")
    p.add_argument("--generality-weight", type=float,
                   help="weight of the caption-to-caption order term: a caption's words, some left out, sit below it (./generality.py)")
    p.add_argument("--generality-short", type=float,
                   help="with this probability (0 < p <= 1) a caption's generalization keeps only 1 to 3 words (./generality.py)")
    p.add_argument("--generality-mask", action="store_true", default=None,
                   help="leave out of the caption-to-caption hinge the negatives a caption contains (./generality.py; one process)")
    p.add_argument("--generality-pull", type=float,
                   help="weight w > 0 of w * mean E(caption, its generalization): contained pairs pulled towards E = 0 (./generality.py)")
    p.add_argument("--checkpoint", help="checkpoint file (default <out>.ckpt.pt)")
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint when it exists")
    p.add_argument("--eval-every", type=int, default=0, help="dev evaluation every N steps (0: at the end only)")
    p.add_argument("--eval-images", type=int, help="evaluate on the first N dev images only")
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    p.add_argument("--threads", type=int, help="torch threads per process (default: cores / local processes)")
    p.add_argument("--json", action="store_true", help="last line of stdout: the final dev metrics as JSON")
    a = p.parse_args(argv)
    if a.steps is not None and a.epochs is not None:
        p.error("--steps and --epochs exclude each other")
    for k in ("steps", "epochs", "batch", "hidden", "word_dim", "min_word_count", "max_length", "checkpoint_every", "log_every", "average_from"):
        v = getattr(a, k)
        if v is not None and v < 1:
            p.error(f"--{k.replace('_', '-')} must be a positive integer, got {v}")
    for k in ("generality_weight", "generality_pull", "distill_weight", "distill_temperature"):
        v = getattr(a, k)
        if v is not None and not (v > 0 and math.isfinite(v)):
            p.error(f"--{k.replace('_', '-')} must be a positive number, got {v}")
        if v is not None and k.startswith("distill") and not a.distill_from:
            p.error(f"--{k.replace('_', '-')} needs --distill-from")
    if a.generality_short is not None:
        if not 0 < a.generality_short <= 1:
            p.error(f"--generality-short must be a probability in (0, 1], got {a.generality_short}")
        if not a.generality_weight:
            p.error("--generality-short needs --generality-weight")
    if a.generality_mask and not a.generality_weight:
        p.error("--generality-mask needs --generality-weight")
    if a.generality_pull is not None and not a.generality_weight:
        p.error("--generality-pull needs --generality-weight")
    if a.lr is not None and not (a.lr > 0 and math.isfinite(a.lr)):
        p.error(f"--lr must be a positive number, got {a.lr}")
    if a.out is None and a.checkpoint is None:
        p.error("--out <run folder> (or at least --checkpoint <file>) is required")
    return a
