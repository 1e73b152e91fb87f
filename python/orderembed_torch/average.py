"""Polyak averaging of the weights, as `--average-from` of the Node trainer (`averageFromStep` in
src/model/trainer.ts): from step N on, the running mean of the weights after each step

    w_avg <- w_avg + (w - w_avg) / count

is kept beside training (which it does not change); evaluations report both the averaged and the trained
weights, and the run folder exports the averaged ones. Under DistributedDataParallel every process holds
the same weights, so every process keeps the same mean.
"""

from __future__ import annotations

import contextlib

import torch


class WeightAverage:
    def __init__(self, model: torch.nn.Module, state: dict | None = None):
        self.model = model
        self.count = 0
        self.mean: dict[str, torch.Tensor] = {}
        if state:
            self.count = int(state["count"])
            self.mean = {k: v.clone() for k, v in state["mean"].items()}

    @torch.no_grad()
    def update(self) -> None:
        self.count += 1
        for name, p in self.model.named_parameters():
            if name not in self.mean:
                self.mean[name] = p.detach().clone()
            else:
                self.mean[name].add_(p.detach() - self.mean[name], alpha=1.0 / self.count)

    def state(self) -> dict:
        return {"count": self.count, "mean": {k: v.cpu() for k, v in self.mean.items()}}

    @contextlib.contextmanager
    def applied(self):
        """The averaged weights in the model for the block (an evaluation), then the trained ones back."""
        if not self.count:
            raise ValueError("weight averaging: no step has been averaged yet")
        saved = {n: p.detach().clone() for n, p in self.model.named_parameters()}
        self.copy_in()
        try:
            yield
        finally:
            with torch.no_grad():
                for n, p in self.model.named_parameters():
                    p.copy_(saved[n])

    @torch.no_grad()
    def copy_in(self) -> None:
        for n, p in self.model.named_parameters():
            p.copy_(self.mean[n])
