"""python -m orderembed_torch.forward <case.json>

The PyTorch counterpart of `npm run -s forward`: reads a GRU / LN-GRU case in the format of
../shared/testvectors/{lngru,gru}.json (params in torch layout, LN-GRU when ln_* are present; x [T, B, D]
time-major; lengths [B]; w_out [T, B, H]; w_h [B, H]) and prints {"y", "h_n", "loss", "grads"} with
loss = sum(y * w_out) + sum(h_n * w_h) and its gradients for x and every parameter.
"""

from __future__ import annotations

import json
import sys

import torch

from .model import LN_PARAM_NAMES, GruLayer


def run_case(case: dict, dtype: torch.dtype = torch.float32) -> dict:
    for f in ("params", "x", "lengths", "w_out", "w_h"):
        if f not in case:
            raise ValueError(f"missing field '{f}' (expected params, x, lengths, w_out, w_h)")
    p = {k: torch.tensor(v, dtype=dtype) for k, v in case["params"].items()}
    three_h, D = p["weight_ih"].shape
    layer = GruLayer(D, three_h // 3, any(n in p for n in LN_PARAM_NAMES)).to(dtype)
    with torch.no_grad():
        for name in layer.param_names:
            if name not in p:
                raise ValueError(f"missing parameter 'params.{name}'")
            if p[name].shape != getattr(layer, name).shape:
                raise ValueError(f"params.{name}: expected shape {list(getattr(layer, name).shape)}, got {list(p[name].shape)}")
            getattr(layer, name).copy_(p[name])
    x = torch.tensor(case["x"], dtype=dtype, requires_grad=True)
    y, h_n = layer(x, torch.tensor(case["lengths"]), outputs=True)
    loss = (y * torch.tensor(case["w_out"], dtype=dtype)).sum() + (h_n * torch.tensor(case["w_h"], dtype=dtype)).sum()
    loss.backward()
    grads = {"x": x.grad.tolist()}
    for name in layer.param_names:
        grads[name] = getattr(layer, name).grad.tolist()
    return {"y": y.tolist(), "h_n": h_n.tolist(), "loss": loss.item(), "grads": grads}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m orderembed_torch.forward <case.json>", file=sys.stderr)
        return 2
    try:
        with open(argv[0], encoding="utf-8") as f:
            out = run_case(json.load(f))
    except (OSError, ValueError) as e:
        print(f"forward: {argv[0]}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
