"""Training pairs from a feature pack, batched so that N processes share one global batch of B pairs.

As the TypeScript Trainer (src/model/trainer.ts): the vocabulary comes from the training captions only
(minimum count), captions are cut to `maxLength` tokens, a training caption without any known word is
dropped, and a batch never holds the same image twice (its other captions would be false negatives).

Two ways to draw an epoch (`TrainConfig.sampling`):
- 'image': every training image once, with one of its captions drawn at random. The images are shuffled
  and sharded by torch's `DistributedSampler` (drop_last), each process taking B/N of every B: rank r
  gets positions r, r + N, ... of the shuffled list, so the N shards of global batch k are exactly the
  B images a single process with batch B would see at step k.
- 'caption': every training caption once, in batches of captions of (nearly) the same length, as the
  order-embeddings code does: `DistributedLengthBatchSampler` builds the same global batches of B in
  every process (seeded by seed + epoch) and hands process r the slice [r B/N, (r + 1) B/N) of each. The
  last, incomplete batch of an epoch is left out (the TypeScript trainer keeps it when it has >= 2 pairs):
  every process must get the same number of pairs.

Both depend on the epoch only, never on N, so a run can resume with another number of processes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler, Sampler

from .pack import Pack
from .tokenizer import Vocabulary, has_known_word, pad_time_major


class TrainingData:
    """Encoded captions and the usable training captions of each training image."""

    def __init__(self, pack: Pack, vocab: Vocabulary, max_length: int):
        self.pack = pack
        self.vocab = vocab
        self.max_length = max_length
        train = set(pack.split("train"))
        self.encoded: list[list[int] | None] = []
        self.dropped: list[int] = []
        by_image: dict[int, list[int]] = {}
        for k, c in enumerate(pack.captions):
            ids = vocab.encode(c["text"], k)[:max_length]
            ok = has_known_word(ids)
            self.encoded.append(ids if ok else None)
            if c["image"] in train:
                if ok:
                    by_image.setdefault(c["image"], []).append(k)
                else:
                    self.dropped.append(k)
        if len(by_image) < 2:
            raise ValueError(
                f"pack '{pack.name}': needs at least 2 training images with a usable caption, got {len(by_image)}"
            )
        self.images = sorted(by_image)
        self.captions_of = [by_image[i] for i in self.images]

    @property
    def num_captions(self) -> int:
        return sum(len(c) for c in self.captions_of)

    def collate(self, pairs: list[tuple[int, int]]) -> tuple[torch.Tensor, ...]:
        """[(image, caption)] -> features [b, F], ids [T, b], lengths [b], and the pack indices of the
        images [b] and captions [b] (for a distillation teacher)."""
        images = torch.tensor([p[0] for p in pairs], dtype=torch.long)
        captions = torch.tensor([p[1] for p in pairs], dtype=torch.long)
        ids, lengths = pad_time_major([self.encoded[p[1]] for p in pairs])  # type: ignore[misc]
        return self.pack.features[images], ids, lengths, images, captions


class ImagePairs(Dataset):
    """sampling 'image': item i = training image i with one of its captions, drawn anew each epoch."""

    def __init__(self, data: TrainingData, seed: int):
        self.data = data
        self.seed = seed
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        counts = np.array([len(c) for c in self.data.captions_of])
        self.choice = np.random.default_rng([self.seed, epoch]).integers(0, counts)

    def __len__(self) -> int:
        return len(self.data.images)

    def __getitem__(self, i: int) -> tuple[int, int]:
        return self.data.images[i], self.data.captions_of[i][int(self.choice[i])]


class CaptionPairs(Dataset):
    """sampling 'caption': item i = the i-th usable training caption (images in order) with its image."""

    def __init__(self, data: TrainingData):
        self.data = data
        self.pairs = [(img, k) for img, caps in zip(data.images, data.captions_of) for k in caps]

    def set_epoch(self, epoch: int) -> None:  # the captions are the same every epoch
        pass

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> tuple[int, int]:
        return self.pairs[i]


class DistributedLengthBatchSampler(Sampler):
    """Length-homogeneous global batches of B captions, sharded over `num_replicas` processes."""

    def __init__(self, dataset: CaptionPairs, batch_size: int, num_replicas: int, rank: int, seed: int):
        if batch_size % num_replicas:
            raise ValueError(f"--batch {batch_size} must be divisible by the number of processes ({num_replicas})")
        self.dataset = dataset
        self.B = batch_size
        self.num_replicas = num_replicas
        self.rank = rank
        self.seed = seed
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        g = torch.Generator().manual_seed(self.seed + epoch)
        pairs = self.dataset.pairs
        encoded = self.dataset.data.encoded
        order = torch.randperm(len(pairs), generator=g).tolist()
        order.sort(key=lambda i: len(encoded[pairs[i][1]]))  # stable: ties keep the random order
        batches: list[list[int]] = []
        current: list[int] = []
        seen: set[int] = set()
        carry: list[int] = []
        for i in order:
            pending = [i]
            while pending:
                j = pending.pop(0)
                img = pairs[j][0]
                if img in seen:
                    carry.append(j)  # its image is in this batch already: the next batch takes it
                    continue
                current.append(j)
                seen.add(img)
                if len(current) == self.B:
                    batches.append(current)
                    current, seen = [], set()
                    pending, carry = carry + pending, []
        perm = torch.randperm(len(batches), generator=g).tolist()
        self.batches = [batches[p] for p in perm]

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        b = self.B // self.num_replicas
        for batch in self.batches:
            yield batch[self.rank * b : (self.rank + 1) * b]


def make_loader(data: TrainingData, sampling: str, batch_size: int, num_replicas: int, rank: int, seed: int):
    """A DataLoader of this process's shards of the global batches, and the object whose set_epoch(e)
    must be called before each epoch (sampler and dataset)."""
    if batch_size % num_replicas:
        raise ValueError(f"--batch {batch_size} must be divisible by the number of processes ({num_replicas})")
    b = batch_size // num_replicas
    if sampling == "image":
        ds = ImagePairs(data, seed)
        if len(ds) < batch_size:
            raise ValueError(f"--batch {batch_size}: the pack has only {len(ds)} training images with a usable caption")
        sampler = DistributedSampler(ds, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed, drop_last=True)
        loader = torch.utils.data.DataLoader(ds, batch_size=b, sampler=sampler, drop_last=True, collate_fn=data.collate)
        samplers = (sampler, ds)
    elif sampling == "caption":
        ds = CaptionPairs(data)
        bs = DistributedLengthBatchSampler(ds, batch_size, num_replicas, rank, seed)
        if not len(bs):
            raise ValueError(f"--batch {batch_size}: not one full batch of captions with distinct images in the pack")
        loader = torch.utils.data.DataLoader(ds, batch_sampler=bs, collate_fn=data.collate)
        samplers = (bs,)
    else:
        raise ValueError(f"--sampling must be 'image' or 'caption', got {sampling!r}")

    def set_epoch(epoch: int) -> None:
        for s in samplers:
            s.set_epoch(epoch)

    return loader, set_epoch
