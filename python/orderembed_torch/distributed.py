"""Process-group set-up for torchrun and the gathering of embeddings for the in-batch loss.

The loss of a batch compares every image with every caption of the batch. With N processes each
embedding B/N pairs, every process gathers all N shards (as open_clip's `gather_features` does) and
computes the loss of the whole global batch, so N processes with B/N pairs each train exactly the
objective of one process with B pairs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class Context:
    world: int
    rank: int
    local_rank: int
    device: torch.device
    backend: str | None  # 'gloo' / 'nccl', None for one process without a process group

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.backend:
            dist.barrier()


def setup(device: str | None = None) -> Context:
    """Reads torchrun's environment (WORLD_SIZE, RANK, LOCAL_RANK); CUDA when present (NCCL), else CPU
    with gloo. A plain `python -m` start is one process with no process group."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() if device is None else device.startswith("cuda")
    if use_cuda and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is available to this PyTorch")
    dev = torch.device(f"cuda:{local_rank}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    backend = None
    if world > 1 or "RANK" in os.environ:
        backend = "nccl" if use_cuda else "gloo"
        dist.init_process_group(backend)
    return Context(world, rank, local_rank, dev, backend)


def teardown(ctx: Context) -> None:
    if ctx.backend and dist.is_initialized():
        dist.destroy_process_group()


class _GatherRows(torch.autograd.Function):
    """all_gather of equally sized row blocks, differentiable.

    Backward: every process computes the same loss of the gathered batch, so the gradient of the
    gathered tensor is the same everywhere and this process's rows only need their own slice of it
    (no communication). DistributedDataParallel then averages the parameter gradients over the N
    processes; the slice is multiplied by N so that the average is the sum over the shards, i.e. the
    gradient of the one-process loss of the whole batch.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        world = dist.get_world_size()
        parts = [torch.empty_like(x) for _ in range(world)]
        dist.all_gather(parts, x.contiguous())
        ctx.rank, ctx.rows, ctx.world = dist.get_rank(), x.shape[0], world
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, g: torch.Tensor):  # type: ignore[override]
        return g[ctx.rank * ctx.rows : (ctx.rank + 1) * ctx.rows] * ctx.world


def gather_rows(x: torch.Tensor, ctx: Context) -> torch.Tensor:
    """[b, H] on each of N processes -> [N b, H], process 0's rows first; identity for one process."""
    if not ctx.backend or ctx.world == 1:
        return x
    return _GatherRows.apply(x)


def gather_indices(x: torch.Tensor, ctx: Context) -> torch.Tensor:
    """[b] on each of N processes -> [N b] in gather_rows' order (not differentiable)."""
    if not ctx.backend or ctx.world == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(ctx.world)]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts)
