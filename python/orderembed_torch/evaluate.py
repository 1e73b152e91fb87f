"""Retrieval evaluation in PyTorch, the same protocol as src/model/recall.ts and `npm run evaluate`:

    python -m orderembed_torch.evaluate --model <run folder> --data <pack folder> [--split dev] [--json]

Ranks count only the items scoring strictly better than the ground truth (ties in its favour);
image -> caption takes the best-ranked own caption; R@K in percent, medr = floor(median) + 1,
meanr = mean + 1. With --json the last line of stdout is {"i2t": {...}, "t2i": {...}, "rsum"}.
"""

from __future__ import annotations

import argparse
import json
import sys

import torch

from .model import OrderEmbeddingModel, scores
from .pack import Pack, read_pack
from .runfolder import read_run
from .tokenizer import Vocabulary, pad_time_major

EMBED_BATCH = 256


def ranks_i2t(S: torch.Tensor, caption_image: torch.Tensor) -> torch.Tensor:
    """S [N, M] (higher is better); caption_image [M] -> per image the 0-based rank of its best own caption."""
    N, M = S.shape
    if torch.isnan(S).any():
        i, j = (torch.isnan(S).nonzero()[0]).tolist()
        raise ValueError(f"scores[{i}, {j}] is NaN; retrieval metrics need finite or infinite scores")
    counts = torch.bincount(caption_image, minlength=N)
    if (counts == 0).any():
        missing = int((counts == 0).nonzero()[0])
        raise ValueError(f"image {missing} has no caption; every image needs at least one caption")
    own = torch.full_like(S, -float("inf"))
    cols = torch.arange(M, device=S.device)
    own[caption_image, cols] = S[caption_image, cols]
    best = own.max(1).values  # [N]
    return (S > best[:, None]).sum(1)


def ranks_t2i(S: torch.Tensor, caption_image: torch.Tensor) -> torch.Tensor:
    """Per caption the 0-based rank of its image among all images."""
    M = S.shape[1]
    target = S[caption_image, torch.arange(M, device=S.device)]
    return (S > target[None, :]).sum(0)


def recall_metrics(ranks: torch.Tensor) -> dict:
    r = ranks.to(torch.float64)
    n = r.numel()
    if n == 0:
        raise ValueError("recall metrics need at least one rank, got 0")
    s = torch.sort(r).values
    median = float(s[n // 2]) if n % 2 else float((s[n // 2 - 1] + s[n // 2]) / 2)
    return {
        "r1": 100 * float((r < 1).sum()) / n,
        "r5": 100 * float((r < 5).sum()) / n,
        "r10": 100 * float((r < 10).sum()) / n,
        "medr": int(median // 1) + 1,
        "meanr": float(r.sum()) / n + 1,
    }


def evaluate_scores(S: torch.Tensor, caption_image: torch.Tensor) -> dict:
    i2t = recall_metrics(ranks_i2t(S, caption_image))
    t2i = recall_metrics(ranks_t2i(S, caption_image))
    rsum = sum(m[k] for m in (i2t, t2i) for k in ("r1", "r5", "r10"))
    return {"i2t": i2t, "t2i": t2i, "rsum": rsum}


@torch.no_grad()
def embed_images(model: OrderEmbeddingModel, features: torch.Tensor, device: torch.device) -> torch.Tensor:
    parts = [model.embed_images(features[i : i + EMBED_BATCH].to(device)) for i in range(0, len(features), EMBED_BATCH)]
    return torch.cat(parts)


@torch.no_grad()
def embed_sequences(model: OrderEmbeddingModel, seqs: list[list[int]], device: torch.device) -> torch.Tensor:
    parts = []
    for i in range(0, len(seqs), EMBED_BATCH):
        ids, lengths = pad_time_major(seqs[i : i + EMBED_BATCH])
        parts.append(model.embed_captions(ids.to(device), lengths.to(device)))
    return torch.cat(parts)


@torch.no_grad()
def evaluate_images(
    model: OrderEmbeddingModel,
    vocab: Vocabulary,
    pack: Pack,
    images: list[int],
    max_length: int,
    device: torch.device | str = "cpu",
) -> dict:
    """Metrics of the given pack images and all their captions (as evaluateImages in src/model/evaluate.ts)."""
    device = torch.device(device)
    if pack.features.shape[1] != model.config.imageDim:
        raise ValueError(
            f"pack '{pack.name}' has {pack.features.shape[1]}-d image features but the model expects "
            f"{model.config.imageDim}-d (another image encoder?)"
        )
    if len(vocab) != model.config.vocabSize:
        raise ValueError(f"vocabulary has {len(vocab)} words but the model expects {model.config.vocabSize}: model file from another vocabulary")
    pos = {img: i for i, img in enumerate(images)}
    caps = [(k, c) for k, c in enumerate(pack.captions) if c["image"] in pos]
    seqs = [vocab.encode(c["text"], k)[:max_length] for k, c in caps]
    caption_image = torch.tensor([pos[c["image"]] for _, c in caps], dtype=torch.long, device=device)
    was_training = model.training
    model.eval()
    try:
        im = embed_images(model, pack.features[images], device)
        cap = embed_sequences(model, seqs, device)
        S = scores(im, cap, model.config.measure)
    finally:
        model.train(was_training)
    return evaluate_scores(S, caption_image)


def evaluate_split(model, vocab, pack: Pack, split: str, max_length: int, device="cpu", max_images: int | None = None) -> dict:
    images = pack.split(split)
    if max_images:
        images = images[:max_images]
    return evaluate_images(model, vocab, pack, images, max_length, device)


def format_metrics(m: dict) -> str:
    row = lambda x: f"R@1 {x['r1']:.1f}  R@5 {x['r5']:.1f}  R@10 {x['r10']:.1f}  medr {x['medr']}  meanr {x['meanr']:.1f}"  # noqa: E731
    return f"image -> caption: {row(m['i2t'])}\ncaption -> image: {row(m['t2i'])}\nR-sum: {m['rsum']:.1f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m orderembed_torch.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="run folder")
    p.add_argument("--data", required=True, help="feature pack folder")
    p.add_argument("--split", default="dev")
    p.add_argument("--max-images", type=int)
    p.add_argument("--json", action="store_true")
    p.add_argument("--device", default="cpu")
    a = p.parse_args(argv)
    log = (lambda s: print(s, file=sys.stderr)) if a.json else print
    try:
        run = read_run(a.model)
        if run.encoder is None:
            raise ValueError(f"{a.model} was trained on synthetic features (no image encoder): evaluate it with npm run evaluate -- --data synthetic")
        pack = read_pack(a.data, expect_encoder=run.encoder)
        model = run.build_model().to(a.device)
        c = run.model_config
        log(f"model {a.model}: {'LN-GRU' if c.layerNorm else 'GRU'} H={c.hiddenDim}, {c.measure}, vocabulary {len(run.vocab)}, trained {run.config.get('steps')} steps on {run.config.get('dataset')}")
        log(f"data {pack.name} (pack), split {a.split}")
        m = evaluate_split(model, run.vocab, pack, a.split, run.max_length, a.device, a.max_images)
    except (ValueError, FileNotFoundError) as e:
        print(f"evaluate: {e}", file=sys.stderr)
        return 1
    log(format_metrics(m))
    if a.json:
        print(json.dumps(m))
    return 0


if __name__ == "__main__":
    sys.exit(main())
