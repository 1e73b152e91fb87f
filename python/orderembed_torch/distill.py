"""Distillation from an ensemble of trained runs, as `--distill-from` of the Node trainer
(src/model/distill.ts and `distillationLoss` in src/model/loss.ts).

The teacher scores a batch by the mean of its members' scores,

    T[i, j] = (1 / M) sum_m S_m(image_i, caption_j)

and the student's score matrix S is pulled towards it by the KL divergence between the softmax
distributions over each row (image -> captions) and each column (caption -> images) at temperature tau:

    L_kd = sum_i KL(softmax(T[i, :] / tau) || softmax(S[i, :] / tau)) + (the same over columns)

The members are frozen, so their embeddings of the training images and captions are computed once,
up front (each member with its own vocabulary and maxLength), and gathered per batch.
"""

from __future__ import annotations

import torch

from .evaluate import embed_images, embed_sequences
from .model import scores
from .pack import Pack
from .runfolder import Run


def distillation_loss(S: torch.Tensor, T: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(teacher || student) over the rows and over the columns of [N, N] score matrices."""
    if S.shape != T.shape:
        raise ValueError(f"distillation_loss: student {list(S.shape)} and teacher {list(T.shape)} scores differ in shape")
    if not temperature > 0:
        raise ValueError(f"distillation_loss: temperature must be > 0, got {temperature}")

    def kl(s: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        log_p = torch.log_softmax(t / temperature, dim=-1)
        log_q = torch.log_softmax(s / temperature, dim=-1)
        return (log_p.exp() * (log_p - log_q)).sum()

    return kl(S, T) + kl(S.t(), T.t())


class EnsembleTeacher:
    """Mean scores of frozen member runs over pack images x pack captions."""

    def __init__(self, members: list[Run], pack: Pack, images: list[int], captions: list[int], device: torch.device, log=print):
        if not members:
            raise ValueError("--distill-from: the teacher needs at least one run")
        measure = members[0].model_config.measure
        dim = pack.features.shape[1]
        for m in members:
            if m.model_config.imageDim != dim:
                raise ValueError(f"--distill-from {m.folder}: expects {m.model_config.imageDim}-d image features, the pack has {dim}-d (another image encoder?)")
            if m.model_config.measure != measure:
                raise ValueError(f"--distill-from {m.folder}: scores by {m.model_config.measure}, {members[0].folder} by {measure}")
        self.labels = [m.folder for m in members]
        self.measure = measure
        self.device = device
        self.has_image = torch.zeros(pack.features.shape[0], dtype=torch.bool)
        self.has_image[images] = True
        self.has_caption = torch.zeros(len(pack.captions), dtype=torch.bool)
        self.has_caption[captions] = True
        self.images: list[torch.Tensor] = []  # per member [numImages, H]
        self.captions: list[torch.Tensor] = []  # per member [numCaptions, H]
        for n, m in enumerate(members):
            model = m.build_model().to(device).eval()
            H = m.model_config.hiddenDim
            im = torch.zeros(pack.features.shape[0], H)
            im[images] = embed_images(model, pack.features[images], device).cpu()
            seqs = [m.vocab.encode(pack.captions[k]["text"], k)[: m.max_length] for k in captions]
            # Length-sorted, so that an embedding batch has little padding.
            order = sorted(range(len(captions)), key=lambda r: len(seqs[r]))
            cap = torch.zeros(len(pack.captions), H)
            cap[[captions[r] for r in order]] = embed_sequences(model, [seqs[r] for r in order], device).cpu()
            self.images.append(im)
            self.captions.append(cap)
            log(f"teacher {n + 1}/{len(members)}: {m.folder} embedded {len(images)} images and {len(captions)} captions")

    def scores(self, images: torch.Tensor, captions: torch.Tensor) -> torch.Tensor:
        """[len(images), len(captions)] mean member scores of pack image and caption indices."""
        if not bool(self.has_image[images].all()):
            raise ValueError("teacher: an image of the batch was not embedded (not a training image?)")
        if not bool(self.has_caption[captions].all()):
            raise ValueError("teacher: a caption of the batch was not embedded (not a training caption?)")
        with torch.no_grad():
            per = [scores(im[images].to(self.device), cap[captions].to(self.device), self.measure) for im, cap in zip(self.images, self.captions)]
            return torch.stack(per).mean(0)
